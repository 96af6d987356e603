"""ONNX export of a landmark model: dynamic batch, uint8 crops in, decoded landmarks out."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from facealign.errors import ConfigError
from facealign.models.landmark_model import LandmarkModel

DECODE_MODES = ("in-graph", "none")


class _Exported(nn.Module):
    """uint8 (B, 3, S, S) RGB crops -> landmarks (B, K, 2) in crop pixels and scores (B, K)
    (``in-graph``), or the raw head output (``none``)."""

    def __init__(self, model: LandmarkModel, decode: str):
        super().__init__()
        self.model = model
        self.decode = decode

    def forward(self, image: torch.Tensor):
        if self.decode == "none":
            return self.model(image)
        undecorated: Any = self.model.predict.__wrapped__  # type: ignore[attr-defined]  # no_grad breaks tracing
        return undecorated(self.model, image)


def export_onnx(model: LandmarkModel, path: str | Path, opset: int = 17, decode: str = "in-graph",
                source_sha256: str | None = None, dynamo: bool = False) -> Path:
    """Write ``model`` as ONNX with a dynamic batch axis and facealign's metadata.

    Args:
        decode: ``in-graph``: outputs ``landmarks`` and ``scores`` (top-k softmax / regression
            decoding, flip averaging when the model uses it, all in ONNX ops); ``none``: output
            ``output`` is the raw head output, decoded in numpy by the runtime.
        source_sha256: Digest of the weights file the model came from (stored in the metadata).

    Metadata (``metadata_props``): ``facealign_config`` (the model config as JSON), ``decode``,
    ``source_sha256``, ``format``.
    """
    import onnx

    from facealign.export.metadata import model_metadata, set_metadata
    from facealign.utils.io import atomic_write

    if decode not in DECODE_MODES:
        raise ConfigError(f"decode must be one of {DECODE_MODES}, got {decode!r}")
    model = model.eval().float()
    s = model.config.input_size
    wrapper = _Exported(model, decode).eval()
    dummy = torch.zeros(2, 3, s, s, dtype=torch.uint8)
    outputs = ["landmarks", "scores"] if decode == "in-graph" else ["output"]
    dyn = {"image": {0: "batch"}, **{o: {0: "batch"} for o in outputs}}
    out = Path(path)

    def write(tmp: Path) -> None:
        # The tracer warns about Python values it freezes into the graph (the input size, the
        # top-k), which are constants of a model by design; the legacy exporter's deprecation
        # notice is ours to act on, not the user's. Neither is shown to someone running predict.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx.*")
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
            torch.onnx.export(wrapper, (dummy,), str(tmp), input_names=["image"], output_names=outputs,
                              dynamic_axes=dyn, opset_version=opset, dynamo=dynamo)
        m = onnx.load(str(tmp))
        set_metadata(m, model_metadata(model.config.to_dict(), decode, source_sha256))
        onnx.checker.check_model(m)
        onnx.save(m, str(tmp))

    atomic_write(out, write)
    return out
