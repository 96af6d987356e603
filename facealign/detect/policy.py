"""Which faces a detector looks for, stated in the original image's pixels.

Every detector finds faces in a fixed range of sizes at its own input scale (its "native" range:
YuNet 16-400 px, dlib's HOG window 80 px and up). :func:`pyramid_scales` turns a policy in
original pixels into the image scales to run it at, so that a 4032 x 3024 phone photo and a
320 px crop are both searched for the same face sizes. The first (largest) scale decides the time
per image; ``max_pixels`` caps it, and :func:`smallest_face_searched` says what the cap cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facealign.errors import FaceAlignError


@dataclass(frozen=True)
class SearchPolicy:
    """Face sizes to search, as the side of the face's landmark box in original pixels.

    Attributes:
        min_face: Smallest face searched (default 20 px).
        max_face: Largest face searched; ``None``: as large as the image.
        max_pixels: Most pixels the detector runs on at the finest scale. On images so large that
            ``min_face`` would need more, the smallest face searched grows instead (it is
            reported), which bounds the time per image.
        rolls: Angles (degrees) the image is turned by for the search, for detectors that only
            find faces near upright: each costs one more search. Default: the image as it is.
        fallback_rolls: Angles searched only when ``rolls`` found no face, or (detectors that
            know) no confident one: a lone rolled face costs a search per angle; images with a
            clearly upright face cost nothing more.
    """

    min_face: float = 20.0
    max_face: float | None = None
    max_pixels: float = 2.0e6
    rolls: tuple[float, ...] = (0.0,)
    fallback_rolls: tuple[float, ...] = (-45.0, 45.0, -90.0, 90.0)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_face) and self.min_face >= 4):
            raise FaceAlignError(f"min_face must be a number of pixels >= 4, got {self.min_face!r}")
        if self.max_face is not None and not (math.isfinite(self.max_face) and self.max_face >= self.min_face):
            raise FaceAlignError(f"max_face must be >= min_face ({self.min_face}), got {self.max_face!r}")
        if not (math.isfinite(self.max_pixels) and self.max_pixels >= 64 * 64):
            raise FaceAlignError(f"max_pixels must be >= 4096, got {self.max_pixels!r}")
        for r in (*self.rolls, *self.fallback_rolls):
            if not (math.isfinite(r) and -180 <= r <= 180):
                raise FaceAlignError(f"search rolls must be degrees in [-180, 180], got {r!r}")
        if not self.rolls:
            raise FaceAlignError("rolls must name at least one angle (0 for the image as it is)")


# A detector's box of a face at the smallest size searched can be a little smaller than the face's
# landmark box; detections smaller than this fraction of min_face are dropped (the aligner and the
# training boxes of train.detector_boxes apply the same rule).
SMALLEST_BOX_OF_MIN_FACE = 0.75


def smallest_box(min_face: float) -> float:
    """The smallest detector box, in pixels, kept when faces of ``min_face`` and up are searched."""
    return SMALLEST_BOX_OF_MIN_FACE * min_face


# Every roll a rolled-face search tries: YuNet finds faces up to about 25 degrees from upright, so
# steps of 45 degrees leave no gap up to 112 degrees either way.
ALL_ROLLS = (0.0, -45.0, 45.0, -90.0, 90.0)


def finest_scale(height: int, width: int, policy: SearchPolicy, native_min: float) -> float:
    """The scale that brings ``policy.min_face`` to ``native_min``, capped by ``policy.max_pixels``."""
    return min(native_min / policy.min_face, math.sqrt(policy.max_pixels / (height * width)))


def smallest_face_searched(height: int, width: int, policy: SearchPolicy, native_min: float) -> float:
    """Side in original pixels of the smallest face the policy finds in an image of this size."""
    return native_min / finest_scale(height, width, policy, native_min)


def pyramid_scales(height: int, width: int, policy: SearchPolicy, native_min: float, native_max: float) -> list[float]:
    """Image scales, finest first, whose native ranges together cover min_face..max_face.

    Consecutive levels overlap by a factor of 2 in face size, so that a face at the edge of one
    level's range is well inside the next one's.
    """
    largest = policy.max_face or max(height, width)
    scales = [finest_scale(height, width, policy, native_min)]
    step = 2.0 * native_min / native_max
    while native_max / scales[-1] < largest and scales[-1] * max(height, width) > 2 * native_min:
        scales.append(scales[-1] * step)
    return scales


def resize_by(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` scaled by ``scale`` (area averaging down, bilinear up)."""
    if abs(scale - 1.0) < 1e-6:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale > 1:
        return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    # Exact halvings first, while 2x or more is left: OpenCV's area resize has a fast path for
    # them (a 4032 x 3226 photo halved in 2.5 ms, brought to 2 megapixels in one step in 41 ms, in
    # a halving and a step in 20 ms, 2-core EPYC). The same block averages; an odd last row or
    # column is dropped (a shift under 1/2000 of the image).
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        hh, hw = image.shape[0] // 2, image.shape[1] // 2
        image = cv2.resize(image[:2 * hh, :2 * hw], (hw, hh), interpolation=cv2.INTER_AREA)
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def merge_same_faces(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.4, centre: float = 0.5) -> np.ndarray:
    """Indices kept (highest score first) when detections of one face are merged: two boxes are
    the same face when their (N, 4) x1, y1, x2, y2 boxes overlap by more than ``iou``, or when
    their centres are closer than ``centre`` times the smaller side (boxes of one face found at
    different rolls, whose frames differ too much for their overlap to say so)."""
    order = np.argsort(-scores, kind="stable")
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    for i in order:
        k = np.asarray(keep, np.int64)
        if len(k):
            lo, hi = np.maximum(boxes[k, :2], boxes[i, :2]), np.minimum(boxes[k, 2:], boxes[i, 2:])
            inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
            overlap = inter / (area[k] + area[i] - inter)
            near = np.linalg.norm(c[k] - c[i], axis=1) < centre * np.minimum(side[k], side[i])
            if np.any((overlap > iou) | near):
                continue
        keep.append(int(i))
    return np.asarray(keep, np.int64)
