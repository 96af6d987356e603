"""Heatmap backbones (multi-scale timm features fused at the output stride) and the binary head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from facealign.codecs.heatmap import HeatmapCodec
from facealign.errors import ConfigError
from facealign.models.backbones import create_backbone


class FusedFeatures(nn.Module):
    """timm ``features_only`` backbone whose feature maps are resized to the output grid
    (bilinear up-sampling, area pooling down) and concatenated along channels.

    forward: (B, 3, S, S) -> (B, sum(C_i), S / stride, S / stride).
    """

    def __init__(self, name: str, stride: int, pretrained_file: str | Path | None = None, options: dict | None = None):
        super().__init__()
        net: Any = create_backbone(name, "taps", pretrained_file, options)  # timm: feature_info
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
    backbone = FusedFeatures(config.backbone, hm.stride, pretrained_file, config.backbone_options)
    head = BinaryHeatmapHead(backbone.out_channels, num_points)
    try:
        codec = HeatmapCodec(config.input_size, hm)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return backbone, head, codec
