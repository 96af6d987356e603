"""Post-training int8 quantization of an exported model (ONNX Runtime, static, QDQ).

Weights are quantized per output channel (int8), activations per tensor (uint8) with ranges
calibrated on real face crops. The quantized file outputs the raw head (``decode: none``) and is
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
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        m = onnx.load(str(tmp))
        set_metadata(m, {**meta, "quantization": "int8", "calibration_faces": str(len(nchw))})
        onnx.save(m, str(tmp))

    out = Path(dst)
    atomic_write(out, write)
    return out


def export_onnx_int8(model, dst: str | Path, crops: np.ndarray, opset: int = 17,
                     source_sha256: str | None = None) -> Path:
    """Export the LandmarkModel ``model`` (``decode="none"``, see
    :func:`~facealign.export.export_onnx`) and write its int8 copy to ``dst`` (see
    :func:`quantize_int8`); the float file is only a temporary."""
    from facealign.export.onnx import export_onnx

    with tempfile.TemporaryDirectory() as d:
        fp32 = export_onnx(model, Path(d) / "fp32.onnx", opset=opset, decode="none", source_sha256=source_sha256)
        return quantize_int8(fp32, dst, crops)


def calibration_crops(data, config, faces: int = 256, seed: int = 0) -> np.ndarray:
    """(N, S, S, 3) uint8 crops of ``faces`` faces drawn from the LandmarkSet ``data``, cut around
    their landmark boxes as the model's ``config`` (input size, crop scale) prescribes."""
    from facealign.data.crop import model_crops

    n = min(faces, len(data))
    if n == 0:
        raise FaceAlignError(f"{data.name}: no faces to calibrate on")
    idx = np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))
    return model_crops([data.samples[int(i)] for i in idx], config, "landmarks")[0]
