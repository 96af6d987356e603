"""Export (ONNX) and the ONNX Runtime backend."""

from facealign.export.runtime import OnnxLandmarkModel

__all__ = ["OnnxLandmarkModel", "export_onnx"]


def export_onnx(*args, **kwargs):
    """See :func:`facealign.export.onnx.export_onnx` (imported lazily: it needs torch)."""
    from facealign.export.onnx import export_onnx as _export

    return _export(*args, **kwargs)
