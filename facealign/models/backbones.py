"""Backbones from timm (``features_only``); no hand-written copies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from facealign.errors import ConfigError, FaceAlignError

# Friendly names of the paper backbones -> timm model names.
BACKBONE_ALIASES = {
    "mobilenetv2": "mobilenetv2_100",
    "mnv2": "mobilenetv2_100",
    "efficientnet-b0": "efficientnet_b0",
    "efficientnet-b3": "efficientnet_b3",
    "hrnet-w18": "hrnet_w18",
}


def timm_name(name: str) -> str:
    return BACKBONE_ALIASES.get(name.lower(), name)


# Which timm feature levels feed a heatmap head (docs/heatmap.md, Heads and backbones): HRNet's four branches; the
# MobileNetV2 taps at strides 4, 8 and 16. Other CNNs: every level of stride 4 to 32.
HEATMAP_TAPS = {"hrnet": (1, 2, 3, 4), "mobilenetv2": (1, 2, 3)}


class FinalFeatures(nn.Module):
    """A timm classifier without its pooling and classifier: returns ``[forward_features(x)]``.

    Used by the regression head, which (docs/acr.md) pools the network's final
    feature map -- for MobileNetV2 the 1280-channel conv after the last inverted-residual
    block, which ``features_only`` would leave out.
    """

    def __init__(self, net: Any):  # a timm classifier (num_features, forward_features)
        super().__init__()
        self.net = net
        self.out_channels = int(net.num_features)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.net.forward_features(x)]


# Backbone settings a model config may set. Models converted from Keras need TensorFlow's "same"
# padding (a timm keyword argument, final-feature networks only) and BatchNorm eps 1e-3; Keras
# training also updates BatchNorm statistics far more slowly than PyTorch's default 0.1
# (``bn_momentum`` is PyTorch's: the weight of the new batch, i.e. 1 - Keras' momentum, so 0.001 for
# Keras MobileNetV2's 0.999 and 0.01 for EfficientNet's 0.99). The BatchNorm settings are applied to
# every BatchNorm layer of any backbone after it is built.
BACKBONE_OPTIONS = {"pad_type": ("", "same"), "bn_eps": (1e-6, 0.1), "bn_momentum": (1e-4, 1.0)}
_BN_OPTIONS = {"bn_eps": "eps", "bn_momentum": "momentum"}


def check_backbone_options(options: dict) -> dict:
    """``options`` if every key and value is allowed (:data:`BACKBONE_OPTIONS`), else ConfigError."""
    from facealign.models.config import number_in

    for k, v in options.items():
        if k not in BACKBONE_OPTIONS:
            raise ConfigError(f"backbone option {k!r} is not supported; choose from {sorted(BACKBONE_OPTIONS)}")
        allowed = BACKBONE_OPTIONS[k]
        if k == "pad_type" and v not in allowed:
            raise ConfigError(f"backbone option pad_type must be one of {list(allowed)}, got {v!r}")
        if k in _BN_OPTIONS and not number_in(v, float(allowed[0]), float(allowed[1])):  # type: ignore[arg-type]
            raise ConfigError(f"backbone option {k} must be a number in [{allowed[0]:g}, {allowed[1]:g}], got {v!r}")
    return options


def set_batchnorm(net: nn.Module, options: dict) -> None:
    """Set ``bn_eps`` / ``bn_momentum`` of :data:`BACKBONE_OPTIONS` on every BatchNorm layer of ``net``."""
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for key, attr in _BN_OPTIONS.items():
                if key in options:
                    setattr(m, attr, float(options[key]))


def create_backbone(name: str, features: str = "final", pretrained_file: str | Path | None = None,
                    options: dict | None = None) -> nn.Module:
    """The one builder of timm backbones (nothing is ever downloaded).

    Args:
        name: timm model name or alias (``mobilenetv2``, ``efficientnet-b0``, ``efficientnet-b3``,
            ``hrnet-w18``).
        features: ``final``: the network up to and including its last conv, as
            :class:`FinalFeatures` (forward returns ``[(B, C, h, w)]``), for global-pool heads;
            ``taps``: a ``features_only`` network returning the heatmap taps (:data:`HEATMAP_TAPS`),
            cut after the last tap; its ``feature_info`` gives their channels and strides.
        pretrained_file: Optional local ``.safetensors``/``.pth`` state dict (e.g. ImageNet weights of
            the same timm model).
        options: settings from :data:`BACKBONE_OPTIONS` (``pad_type``: final features only).
    """
    import timm

    options = check_backbone_options(dict(options or {}))
    timm_options = {k: v for k, v in options.items() if k not in _BN_OPTIONS}

    tname = timm_name(name)
    if not timm.is_model(tname):
        raise ConfigError(f"unknown backbone {name!r}: not a timm model name")
    try:
        if features == "final":
            net: nn.Module = FinalFeatures(timm.create_model(tname, pretrained=False, num_classes=0, global_pool="",
                                                             **timm_options))
        elif features == "taps":
            if timm_options:
                raise ValueError("pad_type applies to regression (final-feature) backbones only")
            net = _tapped(timm, tname)
        else:
            raise ValueError(f"features must be 'final' or 'taps', got {features!r}")
    except Exception as e:  # noqa: BLE001 - timm's errors vary by model
        raise ConfigError(f"backbone {name!r} cannot be built as a feature extractor: {e}") from None
    set_batchnorm(net, options)
    if pretrained_file is not None:
        load_backbone_weights(net.net if isinstance(net, FinalFeatures) else net, pretrained_file)
    return net


def _tapped(timm, tname: str) -> nn.Module:
    kwargs: dict = {"features_only": True, "pretrained": False}
    if tname.startswith("hrnet"):
        kwargs["feature_location"] = ""  # raw branch outputs (18/36/72/144 for W18)
    taps = next((t for prefix, t in HEATMAP_TAPS.items() if tname.startswith(prefix)), None)
    if taps is None:
        red = timm.create_model(tname, **kwargs).feature_info.reduction()
        taps = tuple(i for i, r in enumerate(red) if 4 <= r <= 32)
    net = timm.create_model(tname, out_indices=taps, **kwargs)
    # blocks after the last tap only cost time: drop them (EfficientNet-style nets name taps blocks.N)
    modules = net.feature_info.module_name()
    if hasattr(net, "blocks") and all(m.split(".")[0] == "blocks" for m in modules):
        net.blocks = net.blocks[: max(int(m.split(".")[1]) for m in modules) + 1]
    return net


def load_backbone_weights(net: nn.Module, path: str | Path) -> None:
    """Load a classification checkpoint's weights into a ``features_only`` backbone (no code runs)."""
    p = Path(path)
    if not p.is_file():
        raise FaceAlignError(f"{p}: pretrained weights file not found")
    state: Any
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise FaceAlignError(f"{p}: not a readable weights file ({e})") from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    own = net.state_dict()
    # features_only modules rename nothing for most timm CNNs; keep matching keys and shapes only
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if len(usable) < 0.5 * len(own):
        raise FaceAlignError(f"{p}: only {len(usable)} of {len(own)} backbone tensors match; wrong model?")
    net.load_state_dict(usable, strict=False)
