"""Detector box -> landmark box: detectors frame faces differently from the tight landmark box
the models are trained on, so each detector's box is shifted and scaled by constants measured on
YTF-68 train (``python benchmarks/detection.py --write-calibration``; see docs/detection.md).

A detector with keypoints (YuNet) also gets a linear fit from the keypoints' place in its box to
the landmark box: the box says where the head is, the keypoints where its features are, and
together they frame a face with less jitter than the box alone (docs/detection.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facealign.detect.base import Detections
from facealign.errors import ConfigError

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# Features of one face for the keypoint fit: 1, box height / width, and the 5 keypoints' offsets
# from the box centre in units of the box's longer side (x, y per point), in the box's frame.
KEYPOINT_FEATURES = 12
# Outputs: landmark-box centre shift (x, y) in units of the box side, and log(landmark side / side).
KEYPOINT_OUTPUTS = 3


@dataclass(frozen=True)
class BoxCalibration:
    """Landmark-box centre = box centre + (dx, dy) * side; landmark-box side = scale * side,
    where side is the box's longer side. With ``keypoint_fit`` ((12, 3) weights), faces with
    keypoints take (dx, dy, log scale) from ``features @ keypoint_fit`` instead."""

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    keypoint_fit: tuple[tuple[float, ...], ...] | None = None

    def apply(self, boxes: np.ndarray, roll: np.ndarray | None = None, keypoints: np.ndarray | None = None) -> np.ndarray:
        """(N, 4) detector boxes -> (N, 4) square boxes framed like a landmark box.

        ``roll`` (N,) degrees: each box is in a frame turned by that much (a face found in a
        turned copy of the image, :attr:`Detections.roll`), so its shift turns with it.
        ``keypoints`` (N, 5, 2) in image pixels (NaN where none): used with ``keypoint_fit``.
        """
        from facealign.detect.frame import rotate

        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        fit = np.tile([self.dx, self.dy, np.log(self.scale)], (len(b), 1))
        if self.keypoint_fit is not None and keypoints is not None and len(b):
            feats = keypoint_features(b, keypoints, roll)
            ok = np.isfinite(feats).all(axis=1)
            fit[ok] = feats[ok] @ np.asarray(self.keypoint_fit, np.float64)
        shift = fit[:, :2] * side[:, None]
        if roll is not None and len(b):
            shift = rotate(shift[:, None], roll)[:, 0]
        centre = (b[:, :2] + b[:, 2:]) / 2 + shift
        half = (np.exp(fit[:, 2]) * side / 2)[:, None]
        return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)

    def apply_axis_aligned(self, det: Detections) -> np.ndarray:
        """(N, 4) calibrated boxes of ``det``'s faces along the image's axes (crops not turned).
        The keypoint fit is made in a box's own frame, so faces found in a turned copy of the
        image (axis-aligned boxes around their turned ones) keep the constants."""
        unturned = (det.roll == 0)[:, None, None]
        return self.apply(det.image_boxes(), keypoints=np.where(unturned, det.keypoints, np.nan))


def keypoint_features(boxes: np.ndarray, keypoints: np.ndarray, roll: np.ndarray | None = None) -> np.ndarray:
    """(N, 4) boxes (each in its frame turned by ``roll``), (N, 5, 2) image keypoints -> (N, 12)
    features of :data:`KEYPOINT_FEATURES` (NaN rows where a keypoint is missing)."""
    from facealign.detect.frame import rotate

    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    kp = np.asarray(keypoints, np.float64).reshape(len(b), -1, 2)
    centre = (b[:, :2] + b[:, 2:]) / 2
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    offsets = kp - centre[:, None]
    if roll is not None:
        offsets = rotate(offsets, -np.asarray(roll, np.float64))
    aspect = (b[:, 3] - b[:, 1]) / (b[:, 2] - b[:, 0])
    return np.concatenate([np.ones((len(b), 1)), aspect[:, None], (offsets / side[:, None, None]).reshape(len(b), -1)], axis=1)


def fit_targets(boxes: np.ndarray, landmark_boxes: np.ndarray) -> np.ndarray:
    """(N, 4) detector boxes, (N, 4) landmark boxes -> (N, 3): the centre shift in units of the
    box's longer side and log(landmark-box longer side / box longer side)."""
    b, g = np.asarray(boxes, np.float64), np.asarray(landmark_boxes, np.float64)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    shift = ((g[:, :2] + g[:, 2:]) - (b[:, :2] + b[:, 2:])) / 2 / side[:, None]
    return np.concatenate([shift, np.log(np.maximum(g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]) / side)[:, None]], axis=1)


def fit_keypoint_calibration(boxes: np.ndarray, keypoints: np.ndarray, landmark_boxes: np.ndarray) -> np.ndarray:
    """Least-squares (12, 3) ``keypoint_fit`` from matched upright faces: (N, 4) detector boxes,
    (N, 5, 2) their keypoints, (N, 4) landmark boxes. Faces whose residual is over 4 robust
    standard deviations (a wrong match, a bad detection) are dropped and the fit repeated once."""
    x = keypoint_features(boxes, keypoints)
    y = fit_targets(boxes, landmark_boxes)
    keep = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    if keep.sum() < 4 * KEYPOINT_FEATURES:
        raise ConfigError(f"{int(keep.sum())} faces with keypoints; the keypoint fit needs at least {4 * KEYPOINT_FEATURES}")
    for _ in range(2):
        w = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
        r = np.abs(y - x @ w)
        sigma = 1.4826 * np.median(r[keep], axis=0)
        keep &= (r <= 4 * np.maximum(sigma, 1e-12)).all(axis=1)
    return w


def _calibration(name: str, entry: dict) -> BoxCalibration:
    fit = entry.get("keypoint_fit")
    if fit is not None:
        w = np.asarray(fit, np.float64)
        if w.shape != (KEYPOINT_FEATURES, KEYPOINT_OUTPUTS) or not np.isfinite(w).all():
            raise ConfigError(f"{CALIBRATION_FILE}: {name}.keypoint_fit must be {KEYPOINT_FEATURES} rows of "
                             f"{KEYPOINT_OUTPUTS} finite numbers")
        fit = tuple(tuple(float(v) for v in row) for row in w)
    return BoxCalibration(**{f: float(entry[f]) for f in ("dx", "dy", "scale")}, keypoint_fit=fit)


def load_calibrations() -> dict[str, BoxCalibration]:
    if not CALIBRATION_FILE.is_file():
        return {}
    data = json.loads(CALIBRATION_FILE.read_text())
    return {k: _calibration(k, v) for k, v in data.get("detectors", {}).items()}


def calibration_for(detector_name: str) -> BoxCalibration:
    """The box calibration measured for ``detector_name`` (identity when none was)."""
    return load_calibrations().get(detector_name, BoxCalibration())
