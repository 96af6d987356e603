"""Post-training int8 quantization of an exported model (ONNX Runtime, static, QDQ).

Weights are quantized per output channel (int8), activations per tensor (uint8) with ranges
calibrated on real face crops, cut the way inference cuts them (behind the detector). The first
and the last convolution stay float: the image's first features and the heatmap logits that the
top-k softmax decodes are where 8 bits cost accuracy; with them float, the default model's NME
through YuNet on YTF-68 val is fp32's (4.045 %; all layers int8, calibrated on landmark-box
crops: 4.054 %; docs/speed.md), for part of the int8 speed-up (the last convolution runs in
float). The quantized file outputs the raw head (``decode: none``) and is
decoded in numpy by :class:`~facealign.predict.runners.OnnxRunner`: top-k softmax decoding needs
float precision, and ONNX Runtime's int8 kernels only pay off in the convolutions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from facealign.errors import ConfigError, FaceAlignError


def quantize_int8(src: str | Path, dst: str | Path, crops: np.ndarray) -> Path:
    """Write an int8 copy of the float ONNX file ``src`` (exported with ``decode="none"``).

    Args:
        src: Float model from :func:`~facealign.export.export_onnx` with ``decode="none"``.
        dst: Output path (written atomically).
        crops: (N, S, S, 3) uint8 RGB calibration crops, cut the way the model is run (N >= 1;
            a few hundred faces are plenty).

    Returns:
        ``dst``. Its metadata is ``src``'s plus ``quantization: int8`` and ``calibration_faces``.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from facealign.export.metadata import read_metadata, set_metadata
    from facealign.utils.io import atomic_write

    meta = read_metadata(onnx.load(str(src)))
    if meta.get("decode") != "none":
        raise FaceAlignError(f"{src}: int8 quantization needs a model exported with decode 'none'")
    if meta.get("quantization"):
        raise FaceAlignError(f"{src}: already quantized ({meta['quantization']})")
    crops = np.asarray(crops)
    if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8 or len(crops) == 0:
        raise ConfigError(f"calibration crops must be a non-empty (N, S, S, 3) uint8 array, got {crops.shape} {crops.dtype}")
    nchw = np.ascontiguousarray(crops.transpose(0, 3, 1, 2))

    class _Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(range(len(nchw)))

        def get_next(self):
            i = next(self._it, None)
            return None if i is None else {"image": nchw[i:i + 1]}

    def write(tmp: Path) -> None:
        with tempfile.TemporaryDirectory() as d:
            pre = Path(d) / "pre.onnx"
            quant_pre_process(str(src), str(pre))
            quantize_static(str(pre), str(tmp), _Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=_end_convolutions(onnx.load(str(pre))))
        m = onnx.load(str(tmp))
        set_metadata(m, {**meta, "quantization": "int8", "calibration_faces": str(len(nchw))})
        onnx.save(m, str(tmp))

    out = Path(dst)
    atomic_write(out, write)
    return out


def _end_convolutions(model) -> list[str]:
    """Names of the graph's first and last Conv nodes (kept float by :func:`quantize_int8`)."""
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    return sorted({convs[0], convs[-1]}) if convs else []


def export_onnx_int8(model, dst: str | Path, crops: np.ndarray, opset: int = 17,
                     source_sha256: str | None = None) -> Path:
    """Export the LandmarkModel ``model`` (``decode="none"``, see
    :func:`~facealign.export.export_onnx`) and write its int8 copy to ``dst`` (see
    :func:`quantize_int8`); the float file is only a temporary."""
    from facealign.export.onnx import export_onnx

    with tempfile.TemporaryDirectory() as d:
        fp32 = export_onnx(model, Path(d) / "fp32.onnx", opset=opset, decode="none", source_sha256=source_sha256)
        return quantize_int8(fp32, dst, crops)


def calibration_crops(data, config, faces: int = 256, seed: int = 0, detector: str | None = "auto") -> np.ndarray:
    """(N, S, S, 3) uint8 crops of the faces of ``faces`` images drawn from the LandmarkSet ``data``,
    cut as the model's ``config`` (input size, crop scale) prescribes.

    Args:
        detector: Frame each face as inference does: found by this detector (``auto``: the
            default one; :class:`~facealign.detect.finder.FaceFinder`), cut with the roll of its
            eye keypoints; an image in which it finds no face adds no crop. ``None``: cut around
            each face's landmark box instead (as training does).
    """
    from facealign.data.crop import cut_face, model_crops

    n = min(faces, len(data))
    if n == 0:
        raise FaceAlignError(f"{data.name}: no faces to calibrate on")
    picked = [data.samples[int(i)] for i in np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))]
    if detector is None:
        return model_crops(picked, config, "landmarks")[0]
    from facealign.detect.finder import FaceFinder

    finder = FaceFinder(detector)
    crops = []
    for sample in picked:
        image = sample.load_image()
        _, boxes, rolls = finder.find_faces(image)
        crops += [cut_face(image, box, config, float(roll))[0] for box, roll in zip(boxes, rolls)]
    if not crops:
        raise FaceAlignError(f"{data.name}: the {finder.detector.name} detector found no face in {n} images to calibrate on")
    return np.stack(crops)
