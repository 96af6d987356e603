"""Flip test-time augmentation: fold the pass on mirrored crops back onto the plain pass.

One helper for every runner (PyTorch, ONNX Runtime) and for the training shapes; numpy arrays
and torch tensors alike, through :meth:`facealign.schemes.Scheme.flip_points`.
"""

from __future__ import annotations

from typing import Any

from facealign.schemes import Scheme


def merge_flip_pass(points: Any, scores: Any, scheme: Scheme, size: int) -> tuple[Any, Any]:
    """Average a plain and a mirrored pass that were run as one batch.

    Args:
        points: (2B, K, 2) crop pixels: the first B rows from the crops, the last B from the same
            crops mirrored horizontally (``crop[..., ::-1]``).
        scores: (2B, K) in the same order.
        scheme: Landmark scheme (its ``flip_perm`` re-labels the mirrored points).
        size: Crop side S (a mirrored column x is S - 1 - x).

    Returns:
        (points (B, K, 2), scores (B, K)): the mean of both passes.
    """
    b = points.shape[0] // 2
    flipped = scheme.flip_points(points[b:], size)
    flipped_scores = scores[b:][:, list(scheme.flip_perm)]
    return (points[:b] + flipped) / 2, (scores[:b] + flipped_scores) / 2
