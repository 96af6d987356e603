"""Heatmap training objectives (docs/methods.md 2.2-2.3).

``rr_ce`` (R1, default): spatial softmax cross-entropy of the foreground logits against a
randomized-rounding target cell, re-drawn every step. ``rr_pixel_ce`` (R2): per-pixel two-class
cross-entropy against the one-hot map. ``gaussian_ce``: the classic Gaussian target (centred on
the rounded cell), normalised to a distribution, with the same spatial softmax cross-entropy;
``gaussian_mse`` / ``awing``: the Gaussian target with MSE or Adaptive Wing on the raw maps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from facealign.codecs.heatmap import gaussian_encode, rr_encode
from facealign.errors import ConfigError
from facealign.losses import adaptive_wing_loss

HEATMAP_LOSSES = {"rr_ce": "rr", "rr_pixel_ce": "rr", "gaussian_ce": "gaussian", "gaussian_mse": "gaussian",
                  "awing": "gaussian"}


class HeatmapObjective:
    def __init__(self, cfg, model):
        name = cfg.loss.name
        if name not in HEATMAP_LOSSES:
            raise ConfigError(f"loss.name {name!r} is not a heatmap loss; choose one of {list(HEATMAP_LOSSES)}")
        hm = cfg.model.heatmap
        if HEATMAP_LOSSES[name] != hm.target:
            raise ConfigError(f"loss {name!r} needs model.heatmap.target {HEATMAP_LOSSES[name]!r}, got {hm.target!r}")
        if (name == "rr_pixel_ce") != hm.two_class:
            raise ConfigError("loss rr_pixel_ce goes with model.heatmap.two_class: true (and only it)")
        self.name = name
        self.codec = model.codec

    def set_epoch(self, epoch: int) -> dict[str, float]:
        return {}

    def __call__(self, output: torch.Tensor, batch: dict) -> torch.Tensor:
        pts = batch["landmarks"].to(output.dtype)
        b, _, k, h, w = output.shape
        if self.name in ("rr_ce", "rr_pixel_ce"):
            idx, inside = rr_encode(pts, self.codec.stride, (h, w))
            weight = inside.to(output.dtype)
            if self.name == "rr_ce":
                ce = F.cross_entropy(output[:, 1].reshape(b * k, h * w), idx.reshape(-1), reduction="none")
                return (ce * weight.reshape(-1)).sum() / weight.sum().clamp_min(1.0)
            target = torch.zeros(b, k, h * w, dtype=torch.long, device=output.device)
            target.scatter_(2, idx[..., None], 1)
            ce = F.cross_entropy(output.reshape(b, 2, k, h * w), target, reduction="none")  # (B, K, HW)
            return (ce.mean(-1) * weight).sum() / weight.sum().clamp_min(1.0)
        target = gaussian_encode(pts, self.codec.stride, (h, w), self.codec.settings.sigma)
        fg = output[:, 1]
        if self.name == "gaussian_ce":
            dist = target.reshape(b, k, h * w)
            dist = dist / dist.sum(-1, keepdim=True)
            logp = torch.log_softmax(fg.reshape(b, k, h * w), dim=-1)
            return -(dist * logp).sum(-1).mean()
        if self.name == "gaussian_mse":
            return F.mse_loss(fg, target) * 1000.0  # HRNet-scale magnitude; Adam ignores the factor
        return adaptive_wing_loss(fg, target)
