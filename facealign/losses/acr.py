"""The ACR loss (Fard & Mahoor, ICPR 2022), as released (docs/acr.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from facealign.constants import ACR_EPOCHS, ACR_VARIANCE_MILESTONES, ACR_VARIANCES
from facealign.errors import ConfigError
from facealign.shape.pca import ShapePCA, smooth_face

LN2 = math.log(2.0)


def difficulty(target: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
    """Per-coordinate difficulty Phi = |s - s_SF| / max_j |s - s_SF|_j, per sample.

    Args:
        target, smooth: (B, 2K) ground truth and its Smooth-Face.

    Returns:
        (B, 2K) in [0, 1], detached. A sample identical to its Smooth-Face gets Phi = 0.
    """
    with torch.no_grad():
        delta = (target - smooth).abs()
        top = delta.amax(dim=1, keepdim=True)
        return torch.where(top > 0, delta / top.clamp_min(torch.finfo(delta.dtype).tiny), torch.zeros_like(delta))


def acr_loss(pred: torch.Tensor, target: torch.Tensor, phi: torch.Tensor, lam: float = 1.0,
             continuous: bool = False) -> torch.Tensor:
    """ACR loss.

    For each coordinate error e with difficulty Phi:
    |e| <= 1: lam * ln(1 + |e|^(2 - Phi)); |e| > 1: e^2 + C with C = Phi ln 2 - 1 (released form) or
    C = lam ln 2 - 1 (``continuous=True``, continuous at |e| = 1 for any lam).
    Each branch is averaged over all B * 2K elements (other branch masked to 0), times 100, summed.

    Args:
        pred, target: (B, 2K) normalised coordinates.
        phi: (B, 2K) difficulty, treated as a constant.

    Returns:
        Scalar loss.
    """
    phi = phi.detach()
    e = pred - target
    a = e.abs()
    small = a <= 1.0
    # clamp keeps pow away from huge values on the masked branch; no gradient flows there
    l_small = lam * torch.log1p(torch.where(small, a, torch.ones_like(a)).pow(2.0 - phi))
    c = (lam * LN2 - 1.0) if continuous else (phi.double() * LN2 - 1.0).to(e.dtype)
    l_large = e * e + c
    n = e.numel()
    zero = torch.zeros((), dtype=e.dtype, device=e.device)
    return 100.0 * torch.where(small, l_small, zero).sum() / n + 100.0 * torch.where(small, zero, l_large).sum() / n


@dataclass
class VarianceSchedule:
    """Variance kept by the Smooth-Face PCA as training goes on.

    ``values[i]`` applies from epoch ``milestones[i-1]`` (0 for i = 0). The paper's 150-epoch run:
    milestones (16, 31, 71), values (80, 85, 90, 95). Past the last milestone the last value stays
    (the released code has no value after epoch 100; facealign keeps 95 %, as proposed in the spec).
    """

    milestones: tuple[int, ...] = ACR_VARIANCE_MILESTONES
    values: tuple[float, ...] = ACR_VARIANCES

    def __post_init__(self) -> None:
        if len(self.values) != len(self.milestones) + 1:
            raise ConfigError("variance schedule needs one more value than milestones")
        if list(self.milestones) != sorted(self.milestones):
            raise ConfigError("variance milestones must be increasing")

    def __call__(self, epoch: int) -> float:
        i = sum(epoch >= m for m in self.milestones)
        return float(self.values[i])

    @classmethod
    def scaled(cls, epochs: int, values: tuple[float, ...] = ACR_VARIANCES) -> "VarianceSchedule":
        """The paper's milestones (16, 31, 71 of 150 epochs) scaled to a run of ``epochs``."""
        ms = tuple(max(1, round(epochs * m / ACR_EPOCHS)) for m in ACR_VARIANCE_MILESTONES)
        return cls(ms, values)


class ACRLoss(nn.Module):
    """ACR loss with the Smooth-Face of each ground truth computed on the fly (so it follows the
    augmented ground truth) from a :class:`ShapePCA` at the scheduled variance.

    Call :meth:`set_epoch` each epoch. ``forward(pred, target)`` takes (B, 2K) normalised coordinates.
    """

    def __init__(self, pca: ShapePCA, schedule: VarianceSchedule | None = None, lam: float = 1.0,
                 continuous: bool = False):
        super().__init__()
        self.pca = pca
        self.schedule = schedule or VarianceSchedule()
        self.lam = lam
        self.continuous = continuous
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.variance = self.schedule(epoch)
        self._parts = self.pca.torch_parts(self.variance)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self._parts[0].device != target.device:  # follow the batch's device, once per epoch
            self._parts = tuple(t.to(target.device) for t in self._parts)
        mean, comps, bound = self._parts
        phi = difficulty(target, smooth_face(target, mean, comps, bound))
        return acr_loss(pred, target, phi, self.lam, self.continuous)
