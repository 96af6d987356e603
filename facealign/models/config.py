"""Model configuration (torch-free, so the ONNX Runtime path can read it without torch)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from facealign.codecs.config import REGRESSION_CENTRES, HeatmapConfig
from facealign.constants import CROP_SCALE
from facealign.data.crop import CROP_CONVENTIONS
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
        flip_shift: For labels that are not mirror-symmetric (YTF-68's), one value per landmark,
            in landmark-box sizes: how far flip test-time augmentation moves the mirrored pass's
            points along +x so that both passes keep the labels' convention (the values of
            ``augment.flip_shift``, which training copies here; ``tools/label_bias.py --mirror``
            measures them). None: the labels are mirror-symmetric.
        backbone_options: timm keyword arguments (``pad_type``, ``bn_eps``) for networks
            converted from other frameworks (Keras: ``{"pad_type": "same", "bn_eps": 0.001}``).
        regression_centre: Crop centre of the regression codec: ``pixel`` ((S - 1) / 2,
            facealign's pixel-centre convention) or ``half`` (S / 2, the ACR authors' toolkit).
        crop: Crop convention: ``facealign`` (an affine warp of the box scaled by ``crop_scale``),
            ``h3r`` (the H3R authors' rounded Pillow crop, for their imported models;
            :func:`facealign.data.crop.h3r_crop`) or ``acr`` (the ACR toolkit's landmark box
            +-10 px stretched to a square, ``crop_scale`` unused; :func:`facealign.data.crop.acr_crop`).
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
    flip_shift: tuple[float, ...] | None = None
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

        cfg = dataclass_from_dict(cls, d, source)
        cfg.check(source)
        return cfg

    def check(self, source: str = "model config", prefix: str = "") -> None:
        """Raise ConfigError (naming ``source`` and the key) for a value no model can have.

        Every value read from a model file or a training config passes here: finite numbers in
        range, names from the known sets, a heatmap stride that divides the crop and a top-k
        that fits the heatmap, a scheme that exists.
        """
        from facealign.errors import ConfigError

        def bad(key: str, why: str, value: Any) -> ConfigError:
            return ConfigError(f"{source}: {prefix}{key} {why}, got {value!r}")

        for key, lo, hi in _RANGES:
            value = getattr(self, key)
            if not number_in(value, lo, hi):
                raise bad(key, f"must be a number in [{lo:g}, {hi:g}]", value)
        if len(self.mean) != 3 or not all(number_in(v, -1e3, 1e3) for v in self.mean):
            raise bad("mean", "must be 3 finite numbers", list(self.mean))
        if len(self.std) != 3 or not all(number_in(v, 1e-6, 1e6) for v in self.std):
            raise bad("std", "must be 3 positive numbers", list(self.std))
        for key, allowed in (("head", HEADS), ("box", BOXES), ("regression_centre", tuple(REGRESSION_CENTRES)),
                             ("crop", CROP_CONVENTIONS)):
            if getattr(self, key) not in allowed:
                raise bad(key, f"must be one of {list(allowed)}", getattr(self, key))
        if self.head == "heatmap":
            hm = self.heatmap
            if not number_in(hm.stride, 1, 64) or self.input_size % hm.stride:
                raise bad("heatmap.stride", f"must divide input_size {self.input_size}", hm.stride)
            cells = (self.input_size // hm.stride) ** 2
            if not number_in(hm.topk, 1, cells):
                raise bad("heatmap.topk", f"must be in [1, {cells}] (the cells of a heatmap)", hm.topk)
            if not number_in(hm.sigma, 0.01, 100.0):
                raise bad("heatmap.sigma", "must be a number in [0.01, 100]", hm.sigma)
            try:
                hm.check(self.input_size)
            except ValueError as e:
                raise ConfigError(f"{source}: {e}") from None
        try:
            scheme = self.get_scheme()
        except Exception as e:  # noqa: BLE001 - any scheme error becomes one line naming the file
            raise ConfigError(f"{source}: {prefix}scheme: {e}") from None
        if self.flip_shift is not None:
            from facealign.data.augment import flip_shift_problem

            problem = flip_shift_problem(self.flip_shift, scheme.num_points, key=f"{prefix}flip_shift")
            if problem:
                raise ConfigError(f"{source}: {problem}")


BOXES = ("landmarks", "dataset")
# (key, lowest, highest) of the numbers in a model config
_RANGES = (("input_size", 16, 2048), ("crop_scale", 0.5, 4.0), ("dropout", 0.0, 0.99))


def number_in(value: Any, lo: float, hi: float) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and lo <= value <= hi)
