"""Losses: every loss of the library, for coordinates (ACR and its baselines) and for heatmaps."""

from facealign.losses.acr import ACRLoss, VarianceSchedule, acr_loss, difficulty
from facealign.losses.baselines import adaptive_wing_loss, l1_loss, l2_loss, wing_loss
from facealign.losses.heatmap import gaussian_mse, gaussian_softmax_ce, rr_pixel_ce, rr_softmax_ce

__all__ = ["acr_loss", "difficulty", "ACRLoss", "VarianceSchedule", "l1_loss", "l2_loss", "wing_loss",
           "adaptive_wing_loss", "rr_softmax_ce", "rr_pixel_ce", "gaussian_softmax_ce", "gaussian_mse"]
