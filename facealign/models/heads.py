"""Heads on top of backbone features."""

from __future__ import annotations

import math

import torch
from torch import nn


class RegressionHead(nn.Module):
    """Global average pool -> dropout -> linear to 2K (docs/acr.md).

    Input: list of feature maps (the last is used), (B, C, h, w). Output: (B, 2K).
    """

    def __init__(self, in_channels: int, num_points: int, dropout: float = 0.1, he_uniform: bool = False):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, 2 * num_points)
        if he_uniform:
            nn.init.kaiming_uniform_(self.fc.weight, a=0.0, nonlinearity="relu")
            nn.init.zeros_(self.fc.bias)
        else:
            # small outputs at start: predictions begin near the crop centre
            nn.init.normal_(self.fc.weight, std=1.0 / (10 * math.sqrt(in_channels)))
            nn.init.zeros_(self.fc.bias)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        x = feats[-1].mean(dim=(2, 3))
        return self.fc(self.drop(x))
