"""Export: writes model files (ONNX, int8 ONNX). Running them is :mod:`facealign.predict`'s job."""

from __future__ import annotations

from facealign.utils.lazy import lazy_getattr

_EXPORTS = {
    "export_onnx": "facealign.export.onnx",
    "quantize_int8": "facealign.export.quantize",
    "export_onnx_int8": "facealign.export.quantize",
    "calibration_crops": "facealign.export.quantize",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
