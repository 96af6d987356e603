"""Export: writes model files (ONNX, int8 ONNX). Running them is :mod:`facealign.predict`'s job."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "export_onnx": "facealign.export.onnx",
    "quantize_int8": "facealign.export.quantize",
    "export_onnx_int8": "facealign.export.quantize",
    "calibration_crops": "facealign.export.quantize",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # lazy: export_onnx needs torch, quantization needs onnxruntime's tools
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'facealign.export' has no attribute {name!r}")
