"""PCA shape model and Smooth-Face (docs/acr.md).

Shapes are interleaved vectors (x0, y0, x1, y1, ...) of length 2K in the regression codec's
normalised coordinates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from facealign.constants import ACR_VARIANCES
from facealign.errors import FaceAlignError


@dataclass
class ShapePCA:
    """Mean shape and principal components of a set of shapes.

    Attributes:
        mean: (2K,) mean shape.
        components: (2K, R) orthonormal eigenvectors as columns, by decreasing eigenvalue.
        eigenvalues: (R,) explained variances (sample covariance, denominator N - 1).
    """

    mean: np.ndarray
    components: np.ndarray
    eigenvalues: np.ndarray

    def n_components(self, variance: float) -> int:
        """The fewest components whose cumulative explained-variance ratio exceeds ``variance`` %.

        ``variance >= 100`` keeps every component.
        """
        if variance >= 100:
            return int(len(self.eigenvalues))
        ratio = np.cumsum(self.eigenvalues) / self.eigenvalues.sum()
        return min(int(np.searchsorted(ratio, variance / 100.0, side="right")) + 1, len(ratio))

    def torch_parts(self, variance: float, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """(mean (2K,), V (2K, k), bound (k,) = 3 sqrt(lambda)) as float32 tensors."""
        k = self.n_components(variance)
        return (torch.as_tensor(self.mean, dtype=torch.float32, device=device),
                torch.as_tensor(self.components[:, :k], dtype=torch.float32, device=device),
                torch.as_tensor(3.0 * np.sqrt(np.maximum(self.eigenvalues[:k], 0.0)), dtype=torch.float32, device=device))

    def save(self, path: str | Path, variances: tuple[float, ...] = ACR_VARIANCES, info: dict | None = None) -> None:
        from facealign.utils.io import atomic_write

        def write(t: Path) -> None:
            with open(t, "wb") as fh:
                np.savez(fh, mean=self.mean, components=self.components, eigenvalues=self.eigenvalues,
                         variances=np.asarray(variances, np.float64),
                         kept=np.asarray([self.n_components(v) for v in variances], np.int64),
                         info=np.asarray(json.dumps(info or {})))

        atomic_write(path, write)


def fit_shape_pca(shapes: np.ndarray) -> ShapePCA:
    """PCA of (N, 2K) shapes (centred; scikit-learn semantics)."""
    x = np.asarray(shapes, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise FaceAlignError(f"PCA needs at least 2 shapes as an (N, 2K) array, got {x.shape}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    eig = s ** 2 / (x.shape[0] - 1)
    keep = eig > eig.max() * 1e-12
    return ShapePCA(mean, vt[keep].T.copy(), eig[keep])


def load_shape_pca(path: str | Path) -> ShapePCA:
    """Read a ``.npz`` written by :meth:`ShapePCA.save` (no pickles are loaded)."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            return ShapePCA(z["mean"], z["components"], z["eigenvalues"])
    except FileNotFoundError:
        raise FaceAlignError(f"{p}: shape model file not found") from None
    except (KeyError, ValueError, OSError) as e:
        raise FaceAlignError(f"{p}: not a facealign shape model ({e})") from None


def smooth_face(shapes: torch.Tensor, mean: torch.Tensor, components: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
    """Project shapes on the kept components, clip each coefficient to +-3 sqrt(lambda_k), reconstruct.

    Args:
        shapes: (B, 2K).
        mean: (2K,). components: (2K, k). bound: (k,) = 3 sqrt(lambda).

    Returns:
        (B, 2K) Smooth-Faces (no gradient is needed through them).
    """
    b = (shapes - mean) @ components
    b = torch.maximum(torch.minimum(b, bound), -bound)
    return mean + b @ components.T
