"""Flip test-time augmentation: fold the pass on mirrored crops back onto the plain pass.

One helper for every runner (PyTorch, ONNX Runtime) and for the training shapes; numpy arrays
and torch tensors alike, through :meth:`facealign.schemes.Scheme.flip_points`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facealign.schemes import Scheme, landmark_box_size


def merge_flip_pass(points: Any, scores: Any, scheme: Scheme, size: int,
                    flip_shift: tuple[float, ...] | None = None) -> tuple[Any, Any]:
    """Average a plain and a mirrored pass that were run as one batch.

    Args:
        points: (2B, K, 2) crop pixels: the first B rows from the crops, the last B from the same
            crops mirrored horizontally (``crop[..., ::-1]``).
        scores: (2B, K) in the same order.
        scheme: Landmark scheme (its ``flip_perm`` re-labels the mirrored points).
        size: Crop side S (a mirrored column x is S - 1 - x).
        flip_shift: For labels that are not mirror-symmetric (``ModelConfig.flip_shift``), K
            values: the mirrored pass's point j moves by ``flip_shift[j]`` landmark-box sizes
            (of the plain pass's points) along +x before the average. A model that learned such
            labels places them by their convention on a mirrored face too, so mapped back, its
            point j misses label j by -(o_j + o_perm(j)) (docs/data.md); without the move the
            average carries half of that.

    Returns:
        (points (B, K, 2), scores (B, K)): the mean of both passes.
    """
    b = points.shape[0] // 2
    flipped = scheme.flip_points(points[b:], size)
    if flip_shift is not None:
        box = landmark_box_size(points[:b])  # (B,)
        if hasattr(flipped, "detach"):  # a torch tensor: stay in the graph (ONNX export)
            import torch

            dx = torch.as_tensor(flip_shift, dtype=flipped.dtype, device=flipped.device)[None, :] * box[:, None].to(flipped.dtype)
            flipped = torch.stack([flipped[..., 0] + dx, flipped[..., 1]], dim=-1)
        else:
            flipped = flipped.copy()
            flipped[..., 0] += np.asarray(flip_shift, np.float64)[None, :] * box[:, None]
    flipped_scores = scores[b:][:, list(scheme.flip_perm)]
    return (points[:b] + flipped) / 2, (scores[:b] + flipped_scores) / 2
