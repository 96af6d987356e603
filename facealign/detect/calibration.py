"""Detector box -> landmark box: detectors frame faces differently from the tight landmark box
the models are trained on, so each detector's box is shifted and scaled by constants measured on
YTF-68 train (``python benchmarks/detection.py --write-calibration``; see docs/detection.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class BoxCalibration:
    """Landmark-box centre = box centre + (dx, dy) * side; landmark-box side = scale * side,
    where side is the box's longer side."""

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0

    def apply(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) detector boxes -> (N, 4) square boxes framed like a landmark box."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        cx = (b[:, 0] + b[:, 2]) / 2 + self.dx * side
        cy = (b[:, 1] + b[:, 3]) / 2 + self.dy * side
        half = self.scale * side / 2
        return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1).astype(np.float32)


def load_calibrations() -> dict[str, BoxCalibration]:
    if not CALIBRATION_FILE.is_file():
        return {}
    data = json.loads(CALIBRATION_FILE.read_text())
    return {k: BoxCalibration(**{f: float(v[f]) for f in ("dx", "dy", "scale")}) for k, v in data.get("detectors", {}).items()}


def calibration_for(detector_name: str) -> BoxCalibration:
    return load_calibrations().get(detector_name, BoxCalibration())
