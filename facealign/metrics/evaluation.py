"""Evaluation of landmark predictions on a data set, overall and per subset."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facealign.data.crop import CropSpec
from facealign.data.readers.tabular import read_landmark_csv
from facealign.data.sample import LandmarkSet
from facealign.errors import DataError
from facealign.metrics import nme, summarize


@dataclass
class EvalResult:
    """Metrics of one method on one data set.

    Attributes:
        name: Method name (e.g. the predictions file's stem or the model name).
        overall: ``summarize`` of all faces (n, nme, fr, auc, p50, p90, p95; in %).
        subsets: Subset name -> the same statistics on that subset's faces.
        per_face: (N,) NME of each face (fraction), in data-set order.
    """

    name: str
    dataset: str
    normalizer: str
    threshold: float
    overall: dict[str, float]
    subsets: dict[str, dict[str, float]] = field(default_factory=dict)
    per_face: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def to_json(self) -> dict:
        return {**self.overall, "normalizer": self.normalizer, "threshold": self.threshold, "name": self.name,
                "dataset": self.dataset, "subsets": self.subsets}


def evaluate_landmarks(data: LandmarkSet, pred: np.ndarray, normalizer: str = "inter_ocular", threshold: float = 0.1,
                       name: str = "predictions") -> EvalResult:
    """Score (N, K, 2) predictions (original-image pixels) against ``data``."""
    gt = data.landmarks()
    if pred.shape != gt.shape:
        raise DataError(name, f"predictions have shape {pred.shape}, data set {data.name} needs {gt.shape}")
    per_face = nme(pred, gt, data.scheme, normalizer)  # type: ignore[arg-type]
    subsets: dict[str, dict[str, float]] = {}
    for sub in data.subset_names():
        mask = np.array([sub in s.subsets for s in data.samples])
        if sub != "full" or not mask.all():
            subsets[sub] = summarize(per_face[mask], threshold)
    return EvalResult(name, data.name, normalizer, threshold, summarize(per_face, threshold), subsets, per_face)


def match_predictions(data: LandmarkSet, csv_path: str | Path) -> np.ndarray:
    """Read a predictions CSV and line it up with the faces of ``data``.

    Rows are matched by ``file`` (the sample key, e.g. the image path relative to the data-set
    root, or its bare name when that is unambiguous); several faces of one image are matched
    in the order they appear in both.

    Returns:
        (N, K, 2) predictions in data-set order.

    Raises:
        DataError: a face has no prediction, or the point count differs from the scheme.
    """
    p = Path(csv_path)
    rows = read_landmark_csv(p)
    k = data.scheme.num_points
    by_key: dict[str, list[np.ndarray]] = defaultdict(list)
    for line, key, pts in rows:
        if pts.shape[0] != k:
            raise DataError(p, f"prediction has {pts.shape[0]} points; data set {data.name} has {k}", line)
        by_key[key.replace("\\", "/")].append(pts)
    names = [s.key.replace("\\", "/") for s in data.samples]
    use_basename = not any(n in by_key for n in names)
    if use_basename:
        base = [Path(n).name for n in names]
        if len(set(base)) < len(set(names)):
            use_basename = False
    taken: dict[str, int] = defaultdict(int)
    out = np.zeros((len(data), k, 2), np.float32)
    for i, s in enumerate(data.samples):
        key = s.key.replace("\\", "/")
        key = Path(key).name if use_basename else key
        j = taken[key]
        if j >= len(by_key.get(key, ())):
            raise DataError(p, f"no prediction for face {j + 1} of {key!r} (annotation {s.source})")
        out[i] = by_key[key][j]
        taken[key] += 1
    extra = sum(len(v) for v in by_key.values()) - len(data)
    if extra > 0:
        import warnings

        warnings.warn(f"{p}: {extra} prediction row(s) match no face of {data.name} and were ignored", stacklevel=2)
    return out


def mean_shape_predictions(train: LandmarkSet, data: LandmarkSet, spec: CropSpec) -> np.ndarray:
    """The mean training shape placed in each face's crop: the floor any model must beat.

    The mean is taken in crop coordinates (so it adapts to each face's box) and mapped back.

    Args:
        spec: The crop settings to compare under (a ``ModelConfig``: input size, crop scale, box).

    Returns:
        (N, K, 2) predictions for ``data`` in image pixels.
    """
    from facealign.data.crop import crop_matrix, face_box, invert_affine, transform_points

    def matrix(s):
        return crop_matrix(face_box(s, spec.box), spec.input_size, spec.crop_scale)

    mean = np.mean([transform_points(s.landmarks, matrix(s)) for s in train.samples], axis=0)
    return np.stack([transform_points(mean, invert_affine(matrix(s))) for s in data.samples]).astype(np.float32)
