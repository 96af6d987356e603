"""The training objective of each head: it wires the head's codec (targets) to a loss from
:mod:`facealign.losses`, with per-epoch state. Both objectives take the same inputs."""

from __future__ import annotations

from typing import Any

import torch

from facealign.data.sample import LandmarkSet
from facealign.errors import ConfigError
from facealign.losses import (
    ACRLoss,
    VarianceSchedule,
    adaptive_wing_loss,
    gaussian_mse,
    gaussian_softmax_ce,
    l1_loss,
    l2_loss,
    rr_pixel_ce,
    rr_softmax_ce,
    wing_loss,
)
from facealign.shape import ShapePCA, fit_shape_pca, load_shape_pca, training_shapes
from facealign.train.config import TrainConfig

REGRESSION_LOSSES = ("acr", "l2", "l1", "wing")
# heatmap loss -> the codec target it is defined on
HEATMAP_LOSSES = {"rr_ce": "rr", "rr_pixel_ce": "rr", "gaussian_ce": "gaussian", "gaussian_mse": "gaussian",
                  "awing": "gaussian"}


def fit_pca_for(cfg: TrainConfig, data: LandmarkSet) -> ShapePCA:
    """The ACR shape model of the training set: its faces, their mirror images when training flips
    faces, and ``loss.pca_draws`` augmented copies of each (the run's own geometric augmentation)."""
    flips = cfg.augment is not None and cfg.augment.flip > 0
    return fit_shape_pca(training_shapes(data, cfg.model, flips, cfg.augment, cfg.loss.pca_draws, cfg.seed))


class RegressionObjective:
    """Coordinate regression: the codec's normalised targets, and ACR / L2 / L1 / Wing on them."""

    def __init__(self, cfg: TrainConfig, codec: Any, train_data: LandmarkSet):
        loss = cfg.loss
        if loss.name not in REGRESSION_LOSSES:
            raise ConfigError(f"loss.name {loss.name!r} is not a regression loss; choose one of {list(REGRESSION_LOSSES)}")
        self.cfg = loss
        self.codec = codec
        self.acr: Any = None  # the ACR loss module, built below when asked for
        if loss.name == "acr":
            pca = load_shape_pca(loss.pca_file) if loss.pca_file else fit_pca_for(cfg, train_data)
            values = tuple(float(v) for v in loss.variance_values)
            sched = (VarianceSchedule(tuple(loss.variance_milestones), values) if loss.variance_milestones is not None
                     else VarianceSchedule.scaled(cfg.epochs, values))
            self.acr = ACRLoss(pca, sched, loss.acr_lambda, loss.acr_continuous)

    def set_epoch(self, epoch: int) -> dict[str, float]:
        if self.acr is not None:
            self.acr.set_epoch(epoch)
            return {"variance": self.acr.variance}
        return {}

    def __call__(self, output: torch.Tensor, batch: dict, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 2K) head output and a batch with ``landmarks`` (B, K, 2) crop pixels -> scalar loss
        (regression targets are not random: ``generator`` is unused)."""
        target = self.codec.encode(batch["landmarks"].to(output.dtype))
        name = self.cfg.name
        if name == "acr":
            return self.acr(output, target)
        if name == "l2":
            return l2_loss(output, target)
        if name == "l1":
            return l1_loss(output, target)
        size = self.codec.size  # Wing is defined on pixel errors
        return wing_loss(output * size, target * size, self.cfg.wing_w, self.cfg.wing_eps)


class HeatmapObjective:
    """Heatmaps: the codec draws the batch's targets (a fresh randomized rounding every step), the
    loss named in the config scores the head output against them.

    ``rr_ce`` (R1, default), ``rr_pixel_ce`` (R2), ``gaussian_ce``, ``gaussian_mse``, ``awing``: see
    :mod:`facealign.losses.heatmap`.
    """

    def __init__(self, cfg: TrainConfig, codec: Any, train_data: LandmarkSet):
        name = cfg.loss.name
        if name not in HEATMAP_LOSSES:
            raise ConfigError(f"loss.name {name!r} is not a heatmap loss; choose one of {list(HEATMAP_LOSSES)}")
        hm = codec.settings
        if HEATMAP_LOSSES[name] != hm.target:
            raise ConfigError(f"loss {name!r} needs model.heatmap.target {HEATMAP_LOSSES[name]!r}, got {hm.target!r}")
        if (name == "rr_pixel_ce") != hm.two_class:
            raise ConfigError("loss rr_pixel_ce goes with model.heatmap.two_class: true (and only it)")
        self.name = name
        self.codec = codec

    def set_epoch(self, epoch: int) -> dict[str, float]:
        return {}

    def __call__(self, output: torch.Tensor, batch: dict, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 2, K, H, W) head output and a batch with ``landmarks`` (B, K, 2) -> scalar loss.

        Args:
            generator: Source of the randomized-rounding draws, on the output's device (None: the
                device's global RNG).
        """
        target = self.codec.encode(batch["landmarks"].to(output.dtype), generator)
        fg = output[:, 1]
        if self.name == "rr_ce":
            return rr_softmax_ce(fg, target.cells, target.inside)
        if self.name == "rr_pixel_ce":
            return rr_pixel_ce(output, target.maps, target.inside)
        if self.name == "gaussian_ce":
            return gaussian_softmax_ce(fg, target.maps)
        if self.name == "gaussian_mse":
            return gaussian_mse(fg, target.maps)
        return adaptive_wing_loss(fg, target.maps)


def build_objective(cfg: TrainConfig, codec: Any, train_data: LandmarkSet):
    """The objective of ``cfg.model.head`` around the model's ``codec``."""
    kind = RegressionObjective if cfg.model.head == "regression" else HeatmapObjective
    return kind(cfg, codec, train_data)
