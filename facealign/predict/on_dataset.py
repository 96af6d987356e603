"""Predict landmarks for every face of an annotated data set (the evaluation path)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from facealign.data.crop import invert_affine, transform_points
from facealign.data.dataset import CropDataset
from facealign.data.sample import LandmarkSet
from facealign.models.landmark_model import LandmarkModel


@torch.no_grad()
def predict_dataset(model: LandmarkModel, data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                    workers: int = 0, channels_last: bool = True, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Crop each face with the model's crop settings, run the model, map points back.

    Args:
        box: ``landmarks`` (P1) or ``dataset`` (P2); default the box type the model was trained with.
        progress: Optional callable(n) advanced by the number of faces done.

    Returns:
        (landmarks (N, K, 2) float32 in original-image pixels, scores (N, K) float32).
    """
    cfg = model.config
    ds = CropDataset(data, cfg.input_size, box or cfg.box, cfg.crop_scale)  # type: ignore[arg-type]
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=workers)
    was_training = model.training
    model.eval()
    pts_out, score_out = [], []
    try:
        for batch in loader:
            x = batch["image"]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            pts, scores = model.predict(x)
            inv = invert_affine(batch["matrix"].double().numpy())
            pts64 = pts.double().numpy()
            pts_out.append(np.stack([transform_points(p, m) for p, m in zip(pts64, inv)]).astype(np.float32))
            score_out.append(scores.float().numpy())
            if progress is not None:
                progress(len(x))
    finally:
        model.train(was_training)
    k = data.scheme.num_points
    if not pts_out:
        return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
    return np.concatenate(pts_out), np.concatenate(score_out)
