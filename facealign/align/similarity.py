"""The least-squares similarity transform between two point sets (Umeyama 1991)."""

from __future__ import annotations

import numpy as np

from facealign.errors import ConfigError


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The similarity (rotation, uniform scale, translation; no reflection) that maps ``src`` to
    ``dst`` with the least squared error.

    S. Umeyama, "Least-squares estimation of transformation parameters between two point
    patterns", IEEE TPAMI 13(4), 1991: the rotation from the SVD of the cross-covariance, with
    the sign of the last singular vector flipped when the best orthogonal map is a reflection.

    Args:
        src: (N, 2) points, N >= 2, not all at one place.
        dst: (N, 2) points.

    Returns:
        (2, 3) float64 matrix M with dst ~ M[:, :2] @ src + M[:, 2].
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ConfigError(f"umeyama needs two (N, 2) arrays with N >= 2, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var_s = (s ** 2).sum() / len(src)
    if not np.isfinite(var_s) or var_s <= 1e-12:
        raise ConfigError("umeyama: the source points are all at one place (or not finite)")
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1.0
    rot = u @ e @ vt
    scale = float((sig * np.diag(e)).sum() / var_s)
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def apply_matrix(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2, 3) affine matrix applied to (..., 2) points."""
    m = np.asarray(matrix, np.float64)
    return np.asarray(points, np.float64) @ m[:, :2].T + m[:, 2]


def invert_matrix(matrix: np.ndarray) -> np.ndarray:
    """The (2, 3) inverse of a (2, 3) affine matrix (crop pixels -> image pixels)."""
    m = np.asarray(matrix, np.float64)
    a_inv = np.linalg.inv(m[:, :2])
    return np.concatenate([a_inv, -(a_inv @ m[:, 2])[:, None]], axis=1)
