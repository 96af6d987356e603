"""Model configuration (torch-free, so the ONNX Runtime path can read it without torch)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from facealign.codecs.config import HeatmapConfig
from facealign.constants import CROP_SCALE
from facealign.schemes import Scheme, get_scheme

HEADS = ("regression", "heatmap")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model and use it on an image.

    Attributes:
        scheme: Built-in scheme name, or a scheme dict (custom schemes travel with the model).
        backbone: timm model name or alias.
        head: ``regression`` (ACR / L2 / Wing) or ``heatmap`` (randomized rounding).
        input_size: Crop side S in pixels.
        crop_scale: Box enlargement used for crops.
        box: Box type the model was trained with: ``landmarks`` (P1) or ``dataset`` (P2).
        mean, std: Per-channel normalisation of [0, 1] RGB input.
        dropout: Dropout before the regression layer.
        he_uniform: He-uniform init of the regression layer (the paper's EfficientNet heads).
        heatmap: Heatmap-head settings.
        flip_test: Average with the prediction on the mirrored crop (test-time augmentation).
        backbone_options: timm keyword arguments (``pad_type``, ``bn_eps``) for networks
            converted from other frameworks (Keras: ``{"pad_type": "same", "bn_eps": 0.001}``).
        regression_centre: Crop centre of the regression codec: ``pixel`` ((S - 1) / 2,
            facealign's pixel-centre convention) or ``half`` (S / 2, the ACR authors' toolkit).
        crop: Crop convention: ``facealign`` (an affine warp of the box scaled by ``crop_scale``)
            or ``h3r`` (the H3R authors' rounded Pillow crop, for their imported models;
            :func:`facealign.data.crop.h3r_crop`).
    """

    scheme: str | dict = "300w"
    backbone: str = "mobilenetv2_100"
    head: str = "regression"
    input_size: int = 128
    crop_scale: float = CROP_SCALE
    box: str = "landmarks"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    dropout: float = 0.1
    he_uniform: bool = False
    heatmap: HeatmapConfig = field(default_factory=HeatmapConfig)
    flip_test: bool = False
    backbone_options: dict = field(default_factory=dict)
    regression_centre: str = "pixel"
    crop: str = "facealign"

    def get_scheme(self) -> Scheme:
        return Scheme.from_dict(self.scheme, "model config") if isinstance(self.scheme, dict) else get_scheme(self.scheme)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        if self.head != "heatmap":
            d.pop("heatmap")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model config") -> "ModelConfig":
        from facealign.utils.config import dataclass_from_dict

        if isinstance(d, dict) and "extra" in d:  # written (always empty) by facealign 0.1 files; never read
            d = {k: v for k, v in d.items() if k != "extra"}
        return dataclass_from_dict(cls, d, source)
