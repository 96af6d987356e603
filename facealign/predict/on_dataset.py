"""Predict landmarks for every face of an annotated data set (the evaluation path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from facealign.data.crop import BoxSource, invert_affine, model_crops, transform_points
from facealign.data.sample import LandmarkSet

if TYPE_CHECKING:
    from facealign.models.landmark_model import LandmarkModel


def predict_dataset(model: "LandmarkModel", data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                    workers: int = 0, channels_last: bool = True, progress=None, device=None,
                    flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Crop each face with the model's crop settings, run the model, map points back.

    Args:
        box: ``landmarks`` (P1) or ``dataset`` (P2); default the box type the model was trained with.
        progress: Optional callable(n) advanced by the number of faces done.
        device: Where the model runs (default: where its weights are).
        flip: Flip test-time augmentation (default the model's ``flip_test``).

    Returns:
        (landmarks (N, K, 2) float32 in original-image pixels, scores (N, K) float32).
    """
    import torch
    from torch.utils.data import DataLoader

    from facealign.data.dataset import CropDataset

    ds = CropDataset(data, model.config, box=box)  # type: ignore[arg-type]
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=workers)
    was_training = model.training
    model.eval()
    pts_out, score_out = [], []
    try:
        for batch in loader:
            x = batch["image"]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            pts, scores = model.predict(x.to(device or next(model.parameters()).device), flip=flip)
            inv = invert_affine(batch["matrix"].double().numpy())
            pts64 = pts.double().cpu().numpy()
            pts_out.append(np.stack([transform_points(p, m) for p, m in zip(pts64, inv)]).astype(np.float32))
            score_out.append(scores.float().cpu().numpy())
            if progress is not None:
                progress(len(x))
    finally:
        model.train(was_training)
    k = data.scheme.num_points
    if not pts_out:
        return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
    return np.concatenate(pts_out), np.concatenate(score_out)


def predict_dataset_numpy(runner, data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                          progress=None, flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_dataset` for a torch-free runner (e.g. :class:`~facealign.predict.runners.OnnxRunner`):
    the same crops (no augmentation), cut with numpy/OpenCV."""
    cfg = runner.config
    k = data.scheme.num_points
    pts_out, score_out = [], []
    for s in range(0, len(data), batch_size):
        chunk = data.samples[s:s + batch_size]
        crops, mats = model_crops(chunk, cfg, cast(BoxSource, box or cfg.box))
        pts, scores = runner.predict_crops(crops, flip)
        pts_out.append(np.stack([transform_points(p, invert_affine(m)) for p, m in zip(pts, mats)]).astype(np.float32))
        score_out.append(scores)
        if progress is not None:
            progress(len(chunk))
    if not pts_out:
        return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
    return np.concatenate(pts_out), np.concatenate(score_out)
