"""Codecs: coordinates <-> training targets and network outputs -> coordinates, both directions, in
torch (training, PyTorch inference) and numpy (ONNX Runtime inference).

Torch-free on import: the torch codecs are loaded on first use, so the ONNX Runtime path can use
:mod:`facealign.codecs.numpy_decode` and :mod:`facealign.codecs.config` without torch.
"""

from __future__ import annotations

from facealign.utils.lazy import lazy_getattr

_EXPORTS = {
    "HeatmapConfig": "facealign.codecs.config",
    "RegressionCodec": "facealign.codecs.regression",
    "encode_regression": "facealign.codecs.regression",
    "decode_regression": "facealign.codecs.regression",
    "HeatmapCodec": "facealign.codecs.heatmap",
    "HeatmapTarget": "facealign.codecs.heatmap",
    "merge_flip_pass": "facealign.codecs.flip",
    "Codec": "facealign.codecs.protocol",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
