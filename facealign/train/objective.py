"""The training objective of each head: codec target + loss, with per-epoch state."""

from __future__ import annotations

import numpy as np
import torch

from facealign.codecs.regression import encode_regression
from facealign.data.crop import crop_matrix, face_box, transform_points
from facealign.data.sample import LandmarkSet
from facealign.errors import ConfigError
from facealign.losses import ACRLoss, VarianceSchedule, l1_loss, l2_loss, wing_loss
from facealign.models.landmark_model import LandmarkModel
from facealign.shape.pca import ShapePCA, fit_shape_pca, load_shape_pca
from facealign.train.config import LossConfig, TrainConfig

REGRESSION_LOSSES = ("acr", "l2", "l1", "wing")


def training_shapes(data: LandmarkSet, size: int, box: str, scale: float, with_flips: bool = True) -> np.ndarray:
    """(N or 2N, 2K) normalised crop-space shapes of the training faces (plus their mirror images,
    because training flips faces), as the ACR shape model is fitted on."""
    perm = list(data.scheme.flip_perm)
    shapes = []
    for s in data.samples:
        pts = transform_points(s.landmarks, crop_matrix(face_box(s, box), size, scale))  # type: ignore[arg-type]
        shapes.append(pts)
        if with_flips:
            f = pts[perm].copy()
            f[:, 0] = size - 1 - f[:, 0]
            shapes.append(f)
    t = torch.as_tensor(np.stack(shapes), dtype=torch.float64)
    return encode_regression(t, size).numpy()


def fit_pca_for(cfg: TrainConfig, data: LandmarkSet) -> ShapePCA:
    m = cfg.model
    flips = cfg.augment is not None and cfg.augment.flip > 0
    return fit_shape_pca(training_shapes(data, m.input_size, m.box, m.crop_scale, flips))


class RegressionObjective:
    """Coordinate regression: normalised targets, and ACR / L2 / L1 / Wing on them."""

    def __init__(self, loss: LossConfig, size: int, epochs: int, pca: ShapePCA | None = None):
        if loss.name not in REGRESSION_LOSSES:
            raise ConfigError(f"loss.name {loss.name!r} is not a regression loss; choose one of {list(REGRESSION_LOSSES)}")
        self.cfg = loss
        self.size = size
        self.acr = None
        if loss.name == "acr":
            if pca is None:
                raise ConfigError("the ACR loss needs a shape model (loss.pca_file or the training set)")
            values = tuple(float(v) for v in loss.variance_values)
            sched = (VarianceSchedule(tuple(loss.variance_milestones), values) if loss.variance_milestones is not None
                     else VarianceSchedule.scaled(epochs, values))
            self.acr = ACRLoss(pca, sched, loss.acr_lambda, loss.acr_continuous)

    def set_epoch(self, epoch: int) -> dict[str, float]:
        if self.acr is not None:
            self.acr.set_epoch(epoch)
            return {"variance": self.acr.variance}
        return {}

    def __call__(self, output: torch.Tensor, batch: dict) -> torch.Tensor:
        target = encode_regression(batch["landmarks"].to(output.dtype), self.size)
        name = self.cfg.name
        if name == "acr":
            return self.acr(output, target)
        if name == "l2":
            return l2_loss(output, target)
        if name == "l1":
            return l1_loss(output, target)
        # Wing is defined on pixel errors
        return wing_loss(output * self.size, target * self.size, self.cfg.wing_w, self.cfg.wing_eps)


def build_objective(cfg: TrainConfig, model: LandmarkModel, train_data: LandmarkSet):
    if cfg.model.head == "regression":
        pca = None
        if cfg.loss.name == "acr":
            pca = load_shape_pca(cfg.loss.pca_file) if cfg.loss.pca_file else fit_pca_for(cfg, train_data)
        return RegressionObjective(cfg.loss, cfg.model.input_size, cfg.epochs, pca)
    from facealign.train.heatmap_objective import HeatmapObjective

    return HeatmapObjective(cfg, model)
