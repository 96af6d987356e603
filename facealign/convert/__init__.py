"""Foreign checkpoints -> facealign models: the H3R authors' ``model.pth`` files and the ACR
authors' Keras ``.h5`` (MobileNetV2). Weights are read without executing code and every key is
checked."""

from facealign.convert.acr import convert_acr
from facealign.convert.h3r import H3R_ARCHS, convert_h3r, h3r_key_map

__all__ = ["convert_h3r", "convert_acr", "h3r_key_map", "H3R_ARCHS"]
