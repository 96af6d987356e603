"""Backbones from timm (``features_only``); no hand-written copies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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


def create_backbone(name: str, out_indices: Sequence[int] | None = None, pretrained_file: str | Path | None = None) -> nn.Module:
    """A timm CNN as a feature extractor.

    Args:
        name: timm model name or alias (``mobilenetv2``, ``efficientnet-b0``, ``efficientnet-b3``,
            ``hrnet-w18``).
        out_indices: Feature levels to return (timm's ``out_indices``); default the last.
        pretrained_file: Optional local ``.safetensors``/``.pth`` state dict (e.g. ImageNet weights of
            the same timm model); nothing is ever downloaded.

    Returns:
        A module whose forward returns a list of feature maps; ``.feature_info`` gives their
        channels and strides.
    """
    import timm

    tname = timm_name(name)
    if not timm.is_model(tname):
        raise ConfigError(f"unknown backbone {name!r}: not a timm model name")
    kwargs = {"features_only": True, "pretrained": False}
    if out_indices is not None:
        kwargs["out_indices"] = tuple(out_indices)
    try:
        net = timm.create_model(tname, **kwargs)
    except Exception as e:  # noqa: BLE001 - timm raises various errors for models without feature support
        raise ConfigError(f"backbone {name!r} cannot be built as a feature extractor: {e}") from None
    if out_indices is None:
        net = timm.create_model(tname, features_only=True, pretrained=False,
                                out_indices=(len(net.feature_info) - 1,))
    if pretrained_file is not None:
        load_backbone_weights(net, pretrained_file)
    return net


class FinalFeatures(nn.Module):
    """A timm classifier without its pooling and classifier: returns ``[forward_features(x)]``.

    Used by the regression head, which (docs/methods.md 1.6) pools the network's final
    feature map -- for MobileNetV2 the 1280-channel conv after the last inverted-residual
    block, which ``features_only`` would leave out.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.out_channels = int(net.num_features)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.net.forward_features(x)]


def create_final_features(name: str, pretrained_file: str | Path | None = None) -> FinalFeatures:
    """A timm CNN up to and including its last conv, for global-pool heads."""
    import timm

    tname = timm_name(name)
    if not timm.is_model(tname):
        raise ConfigError(f"unknown backbone {name!r}: not a timm model name")
    net = timm.create_model(tname, pretrained=False, num_classes=0, global_pool="")
    if pretrained_file is not None:
        load_backbone_weights(net, pretrained_file)
    return FinalFeatures(net)


def load_backbone_weights(net: nn.Module, path: str | Path) -> None:
    """Load a classification checkpoint's weights into a ``features_only`` backbone (no code runs)."""
    p = Path(path)
    if not p.is_file():
        raise FaceAlignError(f"{p}: pretrained weights file not found")
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
