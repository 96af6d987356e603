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

    def apply(self, boxes: np.ndarray, roll: np.ndarray | None = None) -> np.ndarray:
        """(N, 4) detector boxes -> (N, 4) square boxes framed like a landmark box.

        ``roll`` (N,) degrees: each box is in a frame turned by that much (a face found in a
        turned copy of the image, :attr:`Detections.roll`), so its shift turns with it.
        """
        from facealign.detect.frame import rotate

        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        shift = np.stack([self.dx * side, self.dy * side], axis=1)
        if roll is not None and len(b):
            shift = rotate(shift[:, None], roll)[:, 0]
        centre = (b[:, :2] + b[:, 2:]) / 2 + shift
        half = (self.scale * side / 2)[:, None]
        return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def load_calibrations() -> dict[str, BoxCalibration]:
    if not CALIBRATION_FILE.is_file():
        return {}
    data = json.loads(CALIBRATION_FILE.read_text())
    return {k: BoxCalibration(**{f: float(v[f]) for f in ("dx", "dy", "scale")}) for k, v in data.get("detectors", {}).items()}


def calibration_for(detector_name: str) -> BoxCalibration:
    """The box calibration measured for ``detector_name`` (identity when none was)."""
    return load_calibrations().get(detector_name, BoxCalibration())
