"""The detector protocol and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

# The five face keypoints some detectors give, in image order: the eye on the image's left (the
# subject's right eye), the other eye, the nose tip, the mouth corner on the image's left, the other.
KEYPOINTS = ("image_left_eye", "image_right_eye", "nose", "image_left_mouth", "image_right_mouth")


def _no_keypoints(n: int) -> np.ndarray:
    return np.full((n, len(KEYPOINTS), 2), np.nan, np.float32)


@dataclass
class Detections:
    """Faces found in one image.

    Attributes:
        boxes: (N, 4) float32 x1, y1, x2, y2 in image pixels.
        scores: (N,) float32 detector confidence (its own scale; higher is more confident).
        keypoints: (N, 5, 2) float32 eye, nose and mouth-corner points (:data:`KEYPOINTS`); NaN
            where the detector gives none.
        min_face_searched: Side in pixels of the smallest face the detector looked for in this
            image (0 when it does not say).
        roll: (N,) degrees by which the image was turned where each face was found (0 for the
            image as it is). A face found at roll r has its box in that turned frame: centred
            on the face, with the width and height it has there (:meth:`image_boxes` gives the
            axis-aligned boxes around them).
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray = field(default=None)  # type: ignore[arg-type]  # filled by __post_init__
    min_face_searched: float = 0.0
    roll: np.ndarray = field(default=None)  # type: ignore[arg-type]  # filled by __post_init__

    def __post_init__(self) -> None:
        if self.keypoints is None:
            self.keypoints = _no_keypoints(len(self.boxes))
        if self.roll is None:
            self.roll = np.zeros(len(self.boxes), np.float32)

    def image_boxes(self) -> np.ndarray:
        """(N, 4) axis-aligned boxes in image pixels around each (possibly turned) box."""
        if not len(self) or not np.any(self.roll):
            return self.boxes
        from facealign.detect.frame import rotate

        c = (self.boxes[:, :2] + self.boxes[:, 2:]) / 2
        half = (self.boxes[:, 2:] - self.boxes[:, :2]) / 2
        corners = np.stack([half * [sx, sy] for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))], axis=1)
        pts = rotate(corners, self.roll) + c[:, None]
        return np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1).astype(np.float32)

    @classmethod
    def empty(cls, min_face_searched: float = 0.0) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), min_face_searched=min_face_searched)

    def __len__(self) -> int:
        return len(self.boxes)

    def take(self, index: np.ndarray) -> "Detections":
        """The faces at ``index`` (an index or boolean array), in that order."""
        return Detections(self.boxes[index], self.scores[index], self.keypoints[index], self.min_face_searched,
                          self.roll[index])

    def filter(self, min_size: float) -> "Detections":
        """Drop faces whose box is smaller than ``min_size`` pixels on its longer side."""
        if not len(self):
            return self
        side = np.maximum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])
        return self.take(side >= min_size)

    def sorted(self) -> "Detections":
        """Largest face first."""
        if len(self) < 2:
            return self
        area = (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])
        return self.take(np.argsort(-area, kind="stable"))


@runtime_checkable
class FaceDetector(Protocol):
    """Anything with ``name`` and ``detect(image) -> Detections`` (image: (H, W, 3) RGB uint8)."""

    name: str

    def detect(self, image: np.ndarray) -> Detections: ...
