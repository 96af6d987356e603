"""Losses: the ACR loss and the baselines it is compared with."""

from facealign.losses.acr import ACRLoss, VarianceSchedule, acr_loss, difficulty
from facealign.losses.baselines import adaptive_wing_loss, l1_loss, l2_loss, wing_loss

__all__ = ["acr_loss", "difficulty", "ACRLoss", "VarianceSchedule", "l1_loss", "l2_loss", "wing_loss",
           "adaptive_wing_loss"]
