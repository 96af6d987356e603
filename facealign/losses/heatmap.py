"""Heatmap losses (docs/heatmap.md, Losses), on the targets that :class:`~facealign.codecs.heatmap.HeatmapCodec`
draws.

``rr_softmax_ce`` (R1): spatial softmax cross-entropy of the foreground logits against one target
cell per point. ``rr_pixel_ce`` (R2): per-pixel two-class cross-entropy against the one-hot map.
``gaussian_softmax_ce``: cross-entropy against a target map normalised to a distribution (the
classic Gaussian target under R1's softmax). ``gaussian_mse``: MSE on the raw maps. Adaptive Wing
lives in :mod:`facealign.losses.baselines`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _masked_mean(per_point: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (per_point * weight).sum() / weight.sum().clamp_min(1.0)


def rr_softmax_ce(logits: torch.Tensor, cells: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """R1: mean over points inside the map of -log softmax(logits)[target cell].

    Args:
        logits: (B, K, H, W) foreground logits.
        cells: (B, K) long flat target cell per point.
        inside: (B, K) bool; points outside the map are ignored.
    """
    b, k, h, w = logits.shape
    ce = F.cross_entropy(logits.reshape(b * k, h * w), cells.reshape(-1), reduction="none")
    return _masked_mean(ce, inside.to(logits.dtype).reshape(-1))


def rr_pixel_ce(output: torch.Tensor, one_hot: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """R2: per-pixel two-class cross-entropy, averaged over each map, then over points inside.

    Args:
        output: (B, 2, K, H, W) head output (channel 0 background, 1 foreground).
        one_hot: (B, K, H, W) target maps, 1 at each point's cell.
        inside: (B, K) bool.
    """
    b, _, k, h, w = output.shape
    target = one_hot.reshape(b, k, h * w).long()
    ce = F.cross_entropy(output.reshape(b, 2, k, h * w), target, reduction="none")  # (B, K, HW)
    return _masked_mean(ce.mean(-1), inside.to(output.dtype))


def gaussian_softmax_ce(logits: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Cross-entropy between softmax(logits) and the target maps normalised to sum to 1, mean over points.

    Args:
        logits: (B, K, H, W). maps: (B, K, H, W) non-negative targets.
    """
    b, k, h, w = logits.shape
    dist = maps.reshape(b, k, h * w)
    dist = dist / dist.sum(-1, keepdim=True)
    logp = torch.log_softmax(logits.reshape(b, k, h * w), dim=-1)
    return -(dist * logp).sum(-1).mean()


def gaussian_mse(maps_pred: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """MSE on raw maps, times 1000 (the HRNet-scale magnitude; Adam ignores the factor)."""
    return F.mse_loss(maps_pred, maps) * 1000.0
