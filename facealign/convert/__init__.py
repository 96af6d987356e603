"""Foreign checkpoints -> facealign models: the H3R authors' ``model.pth`` files and the ACR
authors' Keras ``.h5`` (MobileNetV2, EfficientNet-B0/-B3). Weights are read without executing code
and every key is checked. ``released.json`` lists every file the authors released.

The importers need PyTorch; they are loaded on first use, so that the torch-free zoo can read the
released table through this package.
"""

from typing import TYPE_CHECKING

from facealign.utils.lazy import lazy_getattr

if TYPE_CHECKING:
    from facealign.convert.acr import convert_acr
    from facealign.convert.h3r import H3R_ARCHS, convert_h3r, h3r_key_map

_EXPORTS = {"convert_acr": "facealign.convert.acr", "convert_h3r": "facealign.convert.h3r",
            "h3r_key_map": "facealign.convert.h3r", "H3R_ARCHS": "facealign.convert.h3r"}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = ["convert_h3r", "convert_acr", "h3r_key_map", "H3R_ARCHS"]
