"""Predict landmarks for every face of an annotated data set (the evaluation path).

One code path for every engine: each face is cut with :func:`facealign.data.crop.cut_face` in the
model's own crop convention (facealign's warp, or the H3R / ACR authors' crops for their imported
models), run through a runner's ``predict_crops`` and mapped back with the inverse of the crop's
matrix. A PyTorch model and an ONNX file therefore see the same pixels and give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from facealign.data.crop import BoxSource, invert_affine, model_crops, transform_points
from facealign.data.sample import LandmarkSet

if TYPE_CHECKING:
    from facealign.models.landmark_model import LandmarkModel


def predict_dataset(model: "LandmarkModel | Any", data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                    progress=None, device=None, flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Crop each face as the model sees it, run the model, map the points back to the image.

    Args:
        model: A :class:`~facealign.models.LandmarkModel` (run in PyTorch, in eval mode for the call;
            its train/eval mode is restored after), or any runner with ``config`` and
            ``predict_crops`` (:class:`~facealign.predict.runners.OnnxRunner`, ``TorchRunner``).
        box: ``landmarks`` (P1) or ``dataset`` (P2); default the box type the model was trained with.
        progress: Optional callable(n) advanced by the number of faces done.
        device: Where a LandmarkModel runs (default: where its weights are).
        flip: Flip test-time augmentation (default the model's ``flip_test``).

    Returns:
        (landmarks (N, K, 2) float32 in original-image pixels, scores (N, K) float32).
    """
    with _as_runner(model, device) as runner:
        return _predict_with(runner, data, box, batch_size, progress, flip)


def predict_dataset_numpy(runner, data: LandmarkSet, box: str | None = None, batch_size: int = 64,
                          progress=None, flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_dataset` for a torch-free runner (kept for callers of the earlier name)."""
    return _predict_with(runner, data, box, batch_size, progress, flip)


@contextmanager
def _as_runner(model: Any, device) -> Iterator[Any]:
    """A runner for ``model``: runners as they are; a LandmarkModel in a TorchRunner, in eval mode
    for the duration (training calls this between epochs)."""
    if hasattr(model, "predict_crops"):
        yield model
        return
    from facealign.predict.runners import TorchRunner

    was_training = model.training
    try:
        yield TorchRunner(model, device or next(model.parameters()).device)
    finally:
        model.train(was_training)


def _predict_with(runner, data: LandmarkSet, box: str | None, batch_size: int, progress,
                  flip: bool | None) -> tuple[np.ndarray, np.ndarray]:
    cfg = runner.config
    k = data.scheme.num_points
    pts_out, score_out = [], []
    for s in range(0, len(data), batch_size):
        chunk = data.samples[s:s + batch_size]
        crops, mats = model_crops(chunk, cfg, cast(BoxSource, box or cfg.box))
        pts, scores = runner.predict_crops(crops, flip)
        pts_out.append(np.stack([transform_points(p, invert_affine(m)) for p, m in zip(pts, mats)]).astype(np.float32))
        score_out.append(np.asarray(scores, np.float32))
        if progress is not None:
            progress(len(chunk))
    if not pts_out:
        return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
    return np.concatenate(pts_out), np.concatenate(score_out)
