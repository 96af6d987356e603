"""Predict landmarks for every face of an annotated data set (the evaluation path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from facealign.data.crop import invert_affine, transform_points
from facealign.data.sample import LandmarkSet

if TYPE_CHECKING:
    from facealign.models.landmark_model import LandmarkModel


def predict_dataset(model: "LandmarkModel", data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                    workers: int = 0, channels_last: bool = True, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Crop each face with the model's crop settings, run the model, map points back.

    Args:
        box: ``landmarks`` (P1) or ``dataset`` (P2); default the box type the model was trained with.
        progress: Optional callable(n) advanced by the number of faces done.

    Returns:
        (landmarks (N, K, 2) float32 in original-image pixels, scores (N, K) float32).
    """
    import torch
    from torch.utils.data import DataLoader

    from facealign.data.dataset import CropDataset

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


def model_crops(samples, cfg, box: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Cut each sample's face the way a model with ``cfg`` (input size, crop scale) sees it, with
    numpy/OpenCV only.

    Args:
        samples: Samples of a LandmarkSet.
        box: ``landmarks`` (P1) or ``dataset`` (P2).

    Returns:
        ((N, S, S, 3) uint8 RGB crops, N (2, 3) image-to-crop matrices).
    """
    from facealign.data.crop import crop_matrix, face_box, warp_crop

    mats = [crop_matrix(face_box(x, box), cfg.input_size, cfg.crop_scale) for x in samples]  # type: ignore[arg-type]
    return np.stack([warp_crop(x.load_image(), m, cfg.input_size) for x, m in zip(samples, mats)]), mats


def predict_dataset_numpy(runner, data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                          progress=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_dataset` for a torch-free runner (e.g. :class:`~facealign.export.OnnxLandmarkModel`):
    the same crops (no augmentation), cut with numpy/OpenCV."""
    cfg = runner.config
    k = data.scheme.num_points
    pts_out, score_out = [], []
    for s in range(0, len(data), batch_size):
        chunk = data.samples[s:s + batch_size]
        crops, mats = model_crops(chunk, cfg, box or cfg.box)
        pts, scores = runner.predict_crops(crops)
        pts_out.append(np.stack([transform_points(p, invert_affine(m)) for p, m in zip(pts, mats)]).astype(np.float32))
        score_out.append(scores)
        if progress is not None:
            progress(len(chunk))
    if not pts_out:
        return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
    return np.concatenate(pts_out), np.concatenate(score_out)
