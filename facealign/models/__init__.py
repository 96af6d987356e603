"""Models: timm backbones, heads, the landmark model and its single-file format.

Attributes are imported on first use, so that torch-free code (the ONNX Runtime path) can use
``facealign.models.config`` without importing torch. Named models (the zoo) live in
:mod:`facealign.zoo`, which builds on this package.
"""

from __future__ import annotations

from facealign.utils.lazy import lazy_getattr

_EXPORTS = {
    "LandmarkModel": "facealign.models.landmark_model",
    "create_model": "facealign.models.landmark_model",
    "save_model": "facealign.models.landmark_model",
    "load_model_file": "facealign.models.landmark_model",
    "read_model_file": "facealign.models.landmark_model",
    "create_backbone": "facealign.models.backbones",
    "ModelConfig": "facealign.models.config",
    "HeatmapConfig": "facealign.codecs.config",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
