"""The contract every codec keeps, so that the model, the training objectives and the runners
treat a regression head and a heatmap head alike.

A codec turns (B, K, 2) crop-pixel points into the head's training target (``encode``) and the
head's raw output back into (points (B, K, 2) crop pixels, scores (B, K)) in torch (``decode``)
and in numpy (``decode_numpy``, what ONNX Runtime's raw outputs go through). The two decoders are
one dispatch with the same defaults (tests/test_codecs.py checks they agree on every codec); the
numpy functions themselves live in :mod:`facealign.codecs.numpy_decode`, which imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch

TargetT = TypeVar("TargetT", covariant=True)


@runtime_checkable
class Codec(Protocol[TargetT]):
    """Points <-> a head's targets and outputs.

    Attributes:
        size: Input crop side S in pixels (the frame points are in).
    """

    size: int

    def encode(self, points: torch.Tensor, generator: torch.Generator | None = None) -> TargetT:
        """(B, K, 2) crop pixels -> the training target (randomized draws from ``generator``)."""
        ...

    def decode(self, output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Head output -> (points (B, K, 2) crop pixels, scores (B, K))."""
        ...

    def decode_numpy(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same as :meth:`decode`, for a numpy output (float64 points, float32 scores)."""
        ...
