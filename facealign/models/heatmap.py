"""Heatmap backbones (multi-scale timm features fused at the output stride) and the binary head."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from facealign.codecs.heatmap import HeatmapCodec
from facealign.errors import ConfigError
from facealign.models.backbones import load_backbone_weights, timm_name

# Which timm feature levels feed the head (docs/methods.md 2.5): HRNet's four branches; the
# MobileNetV2 taps at strides 4, 8 and 16 (the network is truncated after the last tap).
TAPS = {"hrnet": (1, 2, 3, 4), "mobilenetv2": (1, 2, 3)}


class FusedFeatures(nn.Module):
    """timm ``features_only`` backbone whose feature maps are resized to the output grid
    (bilinear up-sampling, area pooling down) and concatenated along channels.

    forward: (B, 3, S, S) -> (B, sum(C_i), S / stride, S / stride).
    """

    def __init__(self, name: str, stride: int, pretrained_file: str | Path | None = None):
        super().__init__()
        import timm

        tname = timm_name(name)
        if not timm.is_model(tname):
            raise ConfigError(f"unknown backbone {name!r}: not a timm model name")
        taps = next((t for prefix, t in TAPS.items() if tname.startswith(prefix)), None)
        kwargs: dict = {"features_only": True, "pretrained": False}
        if tname.startswith("hrnet"):
            kwargs["feature_location"] = ""  # raw branch outputs (18/36/72/144 for W18)
        if taps is None:
            probe = timm.create_model(tname, **kwargs)
            red = probe.feature_info.reduction()
            taps = tuple(i for i, r in enumerate(red) if 4 <= r <= 32)
        try:
            net = timm.create_model(tname, out_indices=taps, **kwargs)
        except Exception as e:  # noqa: BLE001
            raise ConfigError(f"backbone {name!r} cannot be built as a feature extractor: {e}") from None
        if hasattr(net, "_stage_out_idx") and hasattr(net, "blocks"):
            net.blocks = net.blocks[: max(net._stage_out_idx)]  # drop blocks after the last tap
        if pretrained_file is not None:
            load_backbone_weights(net, pretrained_file)
        self.net = net
        self.stride = stride
        self.out_channels = int(sum(net.feature_info.channels()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = (x.shape[2] // self.stride, x.shape[3] // self.stride)
        outs = []
        for f in self.net(x):
            if f.shape[2] > size[0]:
                f = F.adaptive_avg_pool2d(f, size)
            elif f.shape[2] < size[0]:
                f = F.interpolate(f, size=size, mode="bilinear", align_corners=False)
            outs.append(f)
        return torch.cat(outs, dim=1)


class BinaryHeatmapHead(nn.Module):
    """1x1 conv - BN - ReLU - 1x1 conv to 2K channels, as (B, 2, K, H, W)."""

    def __init__(self, in_channels: int, num_points: int):
        super().__init__()
        self.num_points = num_points
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 1, bias=False), nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, 2 * num_points, 1, bias=False))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        y = self.block(feats)
        return y.view(y.shape[0], 2, self.num_points, y.shape[2], y.shape[3])


def build_heatmap_parts(config, num_points: int, pretrained_file=None):
    hm = config.heatmap
    backbone = FusedFeatures(config.backbone, hm.stride, pretrained_file)
    head = BinaryHeatmapHead(backbone.out_channels, num_points)
    try:
        codec = HeatmapCodec(config.input_size, hm)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return backbone, head, codec
