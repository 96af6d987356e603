"""Normalised mean error and the statistics built on it (docs/conventions.md, Metrics)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from facealign.errors import ConfigError
from facealign.schemes import Scheme, landmark_box_size

Normalizer = Literal["inter_ocular", "inter_pupil", "bbox"]
NORMALIZERS: tuple[str, ...] = ("inter_ocular", "inter_pupil", "bbox")


def normalizing_distance(gt: np.ndarray, scheme: Scheme, normalizer: Normalizer = "inter_ocular") -> np.ndarray:
    """Per-face normalising distance d.

    Args:
        gt: (N, K, 2) ground-truth landmarks.
        scheme: Gives the eye-corner / pupil indices.
        normalizer: ``inter_ocular`` (outer eye corners), ``inter_pupil`` (distance of the pupil
            centroids) or ``bbox`` (sqrt(w * h) of the ground-truth landmark box).

    Returns:
        (N,) float64 distances.
    """
    g = np.asarray(gt, dtype=np.float64)
    if normalizer == "inter_ocular":
        if scheme.outer_eye_corners is None:
            raise ConfigError(f"scheme {scheme.name!r} has no outer eye corners; use normalizer='bbox'")
        a, b = scheme.outer_eye_corners
        return np.linalg.norm(g[:, a] - g[:, b], axis=-1)
    if normalizer == "inter_pupil":
        if scheme.pupils is None:
            raise ConfigError(f"scheme {scheme.name!r} has no pupil points; use normalizer='bbox'")
        left, right = (g[:, list(idx)].mean(axis=1) for idx in scheme.pupils)
        return np.linalg.norm(left - right, axis=-1)
    if normalizer == "bbox":
        return landmark_box_size(g)
    raise ConfigError(f"unknown normalizer {normalizer!r}; choose one of {list(NORMALIZERS)}")


def point_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(N, K) Euclidean error of each point, in pixels."""
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if p.shape != g.shape:
        raise ConfigError(f"predictions have shape {p.shape} but ground truth {g.shape}")
    return np.linalg.norm(p - g, axis=-1)


def nme(pred: np.ndarray, gt: np.ndarray, scheme: Scheme, normalizer: Normalizer = "inter_ocular") -> np.ndarray:
    """Per-face NME: mean point error divided by the normalising distance.

    Args:
        pred, gt: (N, K, 2).

    Returns:
        (N,) NME as a fraction (multiply by 100 for %).

    Raises:
        ValueError: a face has a zero normalising distance (degenerate annotation).
    """
    d = normalizing_distance(gt, scheme, normalizer)
    if (d <= 0).any():
        raise ConfigError(f"face {int(np.flatnonzero(d <= 0)[0])} has a zero {normalizer} distance")
    return point_errors(pred, gt).mean(axis=1) / d


def failure_rate(nmes: np.ndarray, threshold: float = 0.1) -> float:
    """Fraction of faces with NME > threshold."""
    e = np.asarray(nmes, np.float64)
    return float((e > threshold).mean()) if e.size else float("nan")


def ced(nmes: np.ndarray, threshold: float = 0.1, step: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution on a grid 0..threshold: (errors, fraction of faces with NME <= e)."""
    e = np.sort(np.asarray(nmes, np.float64))
    grid = np.linspace(0.0, threshold, int(round(threshold / step)) + 1)
    frac = np.searchsorted(e, grid, side="right") / max(len(e), 1)
    return grid, frac


def auc(nmes: np.ndarray, threshold: float = 0.1) -> float:
    """AUC_threshold = (1/threshold) * integral_0^threshold CED(e) de.

    The CED is a step function, so the integral is exact: each face contributes
    max(0, threshold - NME) / (N * threshold). Equals the fine-grid trapezoid of :func:`ced`
    up to the grid step.
    """
    e = np.asarray(nmes, np.float64)
    if not e.size:
        return float("nan")
    return float(np.clip(threshold - e, 0.0, None).sum() / (len(e) * threshold))


def summarize(nmes: np.ndarray, threshold: float = 0.1) -> dict[str, float]:
    """n, NME, FR, AUC (all in %) and NME percentiles P50/P90/P95 (in %)."""
    e = np.asarray(nmes, np.float64)
    pct = np.percentile(e, [50, 90, 95]) * 100 if e.size else [float("nan")] * 3
    return {
        "n": int(e.size),
        "nme": float(e.mean() * 100) if e.size else float("nan"),
        "fr": failure_rate(e, threshold) * 100,
        "auc": auc(e, threshold) * 100,
        "p50": float(pct[0]),
        "p90": float(pct[1]),
        "p95": float(pct[2]),
    }
