"""The landmark model: normalisation + timm backbone + head, with its full config, saved as one
safetensors file (weights + JSON config; loading runs no code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from facealign.codecs.config import REGRESSION_CENTRES, HeatmapConfig
from facealign.codecs.flip import merge_flip_pass
from facealign.codecs.regression import RegressionCodec
from facealign.errors import ConfigError, FaceAlignError
from facealign.models.backbones import create_backbone, timm_name
from facealign.models.config import ModelConfig
from facealign.models.heads import RegressionHead

FORMAT_VERSION = 1
__all__ = ["LandmarkModel", "ModelConfig", "HeatmapConfig", "create_model", "save_model", "load_model_file",
           "read_model_file"]


class LandmarkModel(nn.Module):
    """Face crop -> head output.

    ``forward`` takes (B, 3, S, S) RGB crops, uint8 (0..255) or float (0..1), and returns the raw
    head output ((B, 2K) for regression). :meth:`predict` decodes to crop pixels.
    """

    mean: torch.Tensor
    std: torch.Tensor
    backbone: Any  # a timm network wrapper with out_channels
    info: dict[str, Any]  # what a model file says of its origin and metrics

    def __init__(self, config: ModelConfig, pretrained_file: str | Path | None = None):
        super().__init__()
        self.info = {}
        config.check()  # the rules of a model config live there; a config built in code meets them here
        self.config = config
        self.scheme = config.get_scheme()
        k = self.scheme.num_points
        self.register_buffer("mean", torch.tensor(config.mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        if config.head == "regression":
            self.backbone = create_backbone(config.backbone, "final", pretrained_file, config.backbone_options)
            self.head = RegressionHead(self.backbone.out_channels, k, config.dropout, config.he_uniform)
            if config.regression_centre not in REGRESSION_CENTRES:
                raise ConfigError(f"regression_centre must be one of {list(REGRESSION_CENTRES)}, "
                                  f"got {config.regression_centre!r}")
            self.codec = RegressionCodec(config.input_size, config.regression_centre)
        else:
            from facealign.models.heatmap import build_heatmap_parts

            self.backbone, self.head, self.codec = build_heatmap_parts(config, k, pretrained_file)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float()
        if images.dtype == torch.uint8:
            x = x / 255.0
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(self.normalize(images)))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, flip: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, S, S) crops -> (points (B, K, 2) in crop pixels, scores (B, K)).

        Args:
            flip: Also run the mirrored crops, map their points back (x -> S - 1 - x, labels
                permuted with the scheme, moved by ``config.flip_shift`` when the labels are not
                mirror-symmetric) and average; default ``config.flip_test``.
        """
        flip = self.config.flip_test if flip is None else flip
        if not flip:
            return self.codec.decode(self(images))
        both = torch.cat([images, images.flip(3)], dim=0)
        pts, scores = self.codec.decode(self(both))
        return merge_flip_pass(pts, scores, self.scheme, self.config.input_size, self.config.flip_shift)


def create_model(backbone: str = "mobilenetv2_100", head: str = "regression", scheme: str | dict = "300w",
                 input_size: int = 128, pretrained_file: str | Path | None = None, **kwargs: Any) -> LandmarkModel:
    """Build a landmark model (random init unless ``pretrained_file`` gives backbone weights)."""
    cfg = ModelConfig(scheme=scheme, backbone=timm_name(backbone), head=head, input_size=input_size, **kwargs)
    return LandmarkModel(cfg, pretrained_file)


def save_model(model: LandmarkModel, path: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Write weights + config (+ free-form ``info``, e.g. metrics) to one ``.safetensors`` file, atomically."""
    from safetensors.torch import save_file

    from facealign.utils.io import atomic_write

    meta = {"format": "facealign", "format_version": str(FORMAT_VERSION),
            "config": json.dumps(model.config.to_dict()), "info": json.dumps(info or {})}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(path, lambda t: save_file(state, str(t), metadata=meta))
    return Path(path)


# A model file's weights may hold at most this many values (the largest backbone facealign trains,
# HRNet-W18, has 10 M); a config naming a larger network is refused before it is built.
MAX_MODEL_VALUES = 200_000_000


def read_model_file(path: str | Path) -> tuple[ModelConfig, dict[str, torch.Tensor], dict[str, Any]]:
    """Read config, weights and info of a model file without building the model.

    The header is checked before any weight is read: the weights must be the ones the config's
    network has (names, shapes, dtypes; checked on a network built without memory on the ``meta``
    device), so a small file cannot make facealign build or read a giant model.
    """
    from safetensors import SafetensorError, safe_open

    p = Path(path)
    if not p.is_file():
        raise FaceAlignError(f"{p}: model file not found")
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
            cfg, info = _config_of(p, meta)
            declared = {k: (tuple(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in f.keys()}
            _check_declared_weights(p, cfg, declared)
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        if isinstance(e, FaceAlignError):
            raise
        raise FaceAlignError(f"{p}: not a facealign model file (safetensors could not read it: {e})") from None
    return cfg, state, info


def _config_of(p: Path, meta: dict[str, str]) -> tuple[ModelConfig, dict[str, Any]]:
    if meta.get("format") != "facealign" or "config" not in meta:
        raise FaceAlignError(f"{p}: a safetensors file, but not a facealign model (no facealign config in its metadata)")
    try:
        raw, info = json.loads(meta["config"]), json.loads(meta.get("info", "{}"))
    except json.JSONDecodeError as e:
        raise FaceAlignError(f"{p}: model config is not valid JSON ({e})") from None
    except RecursionError:
        raise FaceAlignError(f"{p}: model metadata is nested too deeply to be a facealign config") from None
    return ModelConfig.from_dict(raw, source=str(p)), info if isinstance(info, dict) else {}


# safetensors' dtype names of the torch dtypes a model's state holds
_DTYPE_NAMES = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16"}


def _check_declared_weights(p: Path, cfg: ModelConfig, declared: dict[str, tuple[tuple[int, ...], str]]) -> None:
    """Raise one line unless the file's declared weights are exactly the config's network's."""
    try:
        with torch.device("meta"):
            mine = LandmarkModel(cfg).state_dict()
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise FaceAlignError(f"{p}: its config builds no model ({e})") from None
    size = sum(v.numel() for v in mine.values())
    if size > MAX_MODEL_VALUES:
        raise FaceAlignError(f"{p}: its config names a network of {size:,} weights, over the limit of {MAX_MODEL_VALUES:,}")
    missing = [k for k in mine if k not in declared]
    unexpected = [k for k in declared if k not in mine]
    if missing or unexpected:
        raise FaceAlignError(f"{p}: weights do not fit the model config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, (shape, dtype) in declared.items():
        if shape != tuple(mine[k].shape):
            raise FaceAlignError(f"{p}: weight {k} has shape {list(shape)} where the model config needs "
                                 f"{list(mine[k].shape)} (config and weights disagree)")
        want = _DTYPE_NAMES.get(mine[k].dtype, str(mine[k].dtype))
        if dtype != want:
            raise FaceAlignError(f"{p}: weight {k} is stored as {dtype} where the model needs {want}")


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path) -> None:
    """Copy ``state`` into ``model``, or raise one line naming ``path`` when a name, shape, dtype
    or value is wrong (non-finite weights, negative BatchNorm variances: outputs would be NaN)."""
    mine = model.state_dict()
    missing = [k for k in mine if k not in state]
    unexpected = [k for k in state if k not in mine]
    if missing or unexpected:
        raise FaceAlignError(f"{path}: weights do not fit the model config "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, v in state.items():
        if tuple(v.shape) != tuple(mine[k].shape):
            raise FaceAlignError(f"{path}: weight {k} has shape {list(v.shape)} where the model config needs "
                                 f"{list(mine[k].shape)} (config and weights disagree)")
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise FaceAlignError(f"{path}: weight {k} holds NaN or infinite values")
        if k.endswith("running_var") and bool((v < 0).any()):
            raise FaceAlignError(f"{path}: weight {k} holds negative variances (its outputs would be NaN)")
    model.load_state_dict(state)


def load_model_file(path: str | Path) -> LandmarkModel:
    """Load a model file written by :func:`save_model` (safetensors: no code is executed)."""
    cfg, state, info = read_model_file(path)
    try:
        model = LandmarkModel(cfg)
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise FaceAlignError(f"{path}: its config builds no model ({e})") from None
    load_weights(model, state, path)
    model.info = info
    return model.eval()
