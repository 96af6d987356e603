"""Baseline losses: L2, L1, Wing (Feng et al., CVPR 2018), Adaptive Wing (Wang et al., ICCV 2019)."""

from __future__ import annotations

import math

import torch


def l2_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all elements."""
    return ((pred - target) ** 2).mean()


def l1_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over all elements."""
    return (pred - target).abs().mean()


def wing_loss(pred: torch.Tensor, target: torch.Tensor, w: float = 10.0, eps: float = 2.0) -> torch.Tensor:
    """Wing loss, mean over elements. Errors are in pixels (w = 10, eps = 2 as in the paper).

    |x| < w: w ln(1 + |x| / eps); else |x| - C with C = w - w ln(1 + w / eps).
    """
    x = (pred - target).abs()
    c = w - w * math.log1p(w / eps)
    return torch.where(x < w, w * torch.log1p(x / eps), x - c).mean()


def adaptive_wing_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 2.1, omega: float = 14.0,
                       eps: float = 1.0, theta: float = 0.5) -> torch.Tensor:
    """Adaptive Wing loss for heatmaps (targets y in [0, 1]), mean over elements.

    |y - y^| < theta: omega ln(1 + |(y - y^)/eps|^(alpha - y)); else A |y - y^| - C, with A and C
    making the two pieces meet smoothly at theta.
    """
    y = target
    d = (pred - y).abs()
    p = alpha - y
    small = omega * torch.log1p(torch.where(d < theta, d, torch.zeros_like(d)).div(eps).pow(p))
    r = (theta / eps) ** p  # tensor
    a = omega * (1.0 / (1.0 + r)) * p * (theta / eps) ** (p - 1.0) / eps
    c = theta * a - omega * torch.log1p(r)
    return torch.where(d < theta, small, a * d - c).mean()
