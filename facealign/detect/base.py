"""The detector protocol and its result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class Detections:
    """Faces found in one image.

    Attributes:
        boxes: (N, 4) float32 x1, y1, x2, y2 in image pixels.
        scores: (N,) float32 detector confidence (its own scale; higher is more confident).
    """

    boxes: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return len(self.boxes)

    def filter(self, min_size: float) -> "Detections":
        """Drop faces whose box is smaller than ``min_size`` pixels on its longer side."""
        if not len(self):
            return self
        side = np.maximum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])
        keep = side >= min_size
        return Detections(self.boxes[keep], self.scores[keep])

    def sorted(self) -> "Detections":
        """Largest face first."""
        if len(self) < 2:
            return self
        area = (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])
        order = np.argsort(-area, kind="stable")
        return Detections(self.boxes[order], self.scores[order])


@runtime_checkable
class FaceDetector(Protocol):
    """Anything with ``name`` and ``detect(image) -> Detections`` (image: (H, W, 3) RGB uint8)."""

    name: str

    def detect(self, image: np.ndarray) -> Detections: ...
