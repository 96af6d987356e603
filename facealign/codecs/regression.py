"""Coordinate regression codec (the ACR head): points in crop pixels <-> normalised vector.

ACR normalisation (docs/acr.md): x~ = (c - x) / S with the crop centre c; note the sign
inversion. In facealign's pixel convention (centres at integers) the crop centre is (S - 1) / 2,
so a mirrored crop negates x~ exactly (the paper's c = S / 2 puts centres at +0.5).
Vectors are interleaved (x0, y0, x1, y1, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facealign.codecs.config import REGRESSION_CENTRES
from facealign.codecs.numpy_decode import decode_regression_numpy


def encode_regression(points: torch.Tensor, size: int, centre: str = "pixel") -> torch.Tensor:
    """(B, K, 2) crop pixels -> (B, 2K) normalised targets."""
    c = REGRESSION_CENTRES[centre](size)
    return ((c - points) / size).reshape(points.shape[0], -1)


def decode_regression(output: torch.Tensor, size: int, centre: str = "pixel") -> torch.Tensor:
    """(B, 2K) network output -> (B, K, 2) crop pixels (exact inverse of :func:`encode_regression`)."""
    c = REGRESSION_CENTRES[centre](size)
    return c - output.reshape(output.shape[0], -1, 2) * size


@dataclass
class RegressionCodec:
    """Codec of a coordinate-regression head (a :class:`~facealign.codecs.protocol.Codec` of tensors).

    ``decode`` returns (points (B, K, 2) in crop pixels, scores (B, K)); regression has no
    per-point confidence, so scores are 1.
    """

    size: int
    centre: str = "pixel"

    def encode(self, points: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, K, 2) crop pixels -> (B, 2K) normalised training targets (deterministic: no draws)."""
        return encode_regression(points, self.size, self.centre)

    def decode(self, output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 2K) head output -> (points (B, K, 2) in crop pixels, scores (B, K) of 1)."""
        pts = decode_regression(output, self.size, self.centre)
        return pts, torch.ones(pts.shape[:2], dtype=pts.dtype, device=pts.device)

    def decode_numpy(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 2K) head output -> (points (B, K, 2) float64, scores (B, K) of 1)."""
        return decode_regression_numpy(output, self.size, self.centre)
