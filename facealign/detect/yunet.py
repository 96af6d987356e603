"""YuNet, a small CNN face detector with five keypoints (libfacedetection, BSD-3-Clause), through
the ``yuface`` wheel, which has the network and its weights compiled in: offline after install,
no model file to fetch. It finds non-frontal and rolled faces that the HOG and Haar detectors miss
(docs/detection.md)."""

from __future__ import annotations

import os

import cv2
import numpy as np

from facealign.data.crop import invert_affine, transform_points
from facealign.detect.base import Detections
from facealign.detect.frame import turned_copy, turned_size
from facealign.detect.policy import SearchPolicy, merge_same_faces, pyramid_scales, resize_by, smallest_face_searched
from facealign.errors import FaceAlignError

# Landmark-box sides YuNet finds reliably at its input scale: 14 of 15 YTF-68 val faces at 16 px,
# all from 20 to 400 px, 14 at 500 and 10 at 700 (benchmarks/yunet_facts.py).
NATIVE_MIN, NATIVE_MAX = 16.0, 400.0
# Largest turned canvas (pixels) made of a whole image for a rolled search (24 MB at 3 bytes a
# pixel); larger images are scaled before they are turned (YuNetDetector._search).
TURN_FIRST_MAX_PIXELS = 8_000_000


def _passive_openmp() -> None:
    """yuface runs on its own OpenMP runtime, which reads OMP_WAIT_POLICY once, when yuface is
    first imported: this must run before any ``import yuface``. Its threads spin while they wait;
    next to a busy process (a data loader, a server worker) that made a 213 px image take 150 ms
    instead of 15 ms (measured here with a training run beside it). On an idle machine passive
    waiting cost 14 % in one measurement (benchmarks/yunet_wait_policy.py, docs/speed.md). A user's own
    setting wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def yuface_available() -> bool:
    _passive_openmp()  # the import below loads the OpenMP runtime (until 2026-12-04 it came first)
    try:
        import yuface  # noqa: F401
    except ImportError:
        return False
    return True


class YuNetDetector:
    """YuNet over an image pyramid set by a :class:`~facealign.detect.policy.SearchPolicy`.

    Args:
        policy: Face sizes to search in original pixels (default: 20 px up to the image size,
            the finest level capped at 2 megapixels).
        threshold: Confidence (0-1) below which detections are dropped.
        nms_iou: Overlap above which detections of different pyramid levels are merged.
        fallback_confidence: When no face found at the policy's rolls is this confident, the
            fallback rolls are searched too and each face keeps its most confident view. YuNet
            finds many faces rolled by 45-90 degrees as if upright, with keypoints that pretend
            the face is upright and confidence 0.61-0.91 (0.61-0.83 at 90 degrees); upright faces
            score 0.88 or more in 99.3 % of YTF-68 *train* images, so the extra searches cost
            little (benchmarks/yunet_facts.py, docs/detection.md).
    """

    name = "yunet"

    def __init__(self, policy: SearchPolicy | None = None, threshold: float = 0.6, nms_iou: float = 0.4,
                 fallback_confidence: float = 0.88):
        _passive_openmp()
        try:
            from yuface import c_detect
        except ImportError:
            raise FaceAlignError("the yunet detector needs the yuface package (wheels for CPython <= 3.11 on Linux "
                                 "x86-64 and Windows): pip install yuface") from None
        if not 0.0 <= threshold <= 1.0:
            raise FaceAlignError(f"threshold must be in [0, 1], got {threshold!r}")
        self._detect = c_detect
        self.policy = policy or SearchPolicy()
        self.threshold, self.nms_iou, self.fallback_confidence = threshold, nms_iou, fallback_confidence

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        smallest = smallest_face_searched(h, w, self.policy, NATIVE_MIN)
        found = [self._search(image, r) for r in self.policy.rolls]
        if not any(len(f) and f.scores.max() >= self.fallback_confidence for f in found):
            found += [self._search(image, r) for r in self.policy.fallback_rolls if r not in self.policy.rolls]
        det = _concat(found, smallest)
        if not len(det):
            return det
        # faces seen in several turned copies: the most confident view wins (the most upright)
        return det.take(merge_same_faces(det.boxes, det.scores, self.nms_iou)).sorted()

    def _search(self, rgb: np.ndarray, roll: float) -> Detections:
        """Faces of the policy's sizes in the image turned by ``roll`` degrees.

        The turned canvas of an image holds up to about (w + h)^2 / 2 pixels: for a thin image,
        far more than the image itself. Up to :data:`TURN_FIRST_MAX_PIXELS` the whole image is
        turned once and the pyramid scales the turned copy (the measured behaviour, docs/detection.md);
        beyond, each pyramid level is scaled first and turned second, so no level exceeds the
        policy's pixel budget.
        """
        th, tw = turned_size(rgb.shape[0], rgb.shape[1], roll)
        turn_first = roll != 0 and th * tw <= TURN_FIRST_MAX_PIXELS
        source, to_copy = turned_copy(rgb, roll) if turn_first else (rgb, None)
        rows = []
        for scale in pyramid_scales(th, tw, self.policy, NATIVE_MIN, NATIVE_MAX):
            level = cv2.cvtColor(resize_by(source, scale), cv2.COLOR_RGB2BGR)  # yuface takes BGR
            to_level = None
            if roll != 0 and not turn_first:
                level, to_level = turned_copy(level, roll)
            # columns: confidence 0-100, x, y, w, h, five (x, y) keypoints, unused
            found = np.asarray(self._detect(level), np.float32).reshape(-1, 16)
            found = found[found[:, 0] >= self.threshold * 100]
            if to_level is not None:  # back to the scaled image; boxes keep their turned frame (Detections.roll)
                _turn_back(found, to_level)
            found[:, 1:15] /= scale
            if to_level is not None:
                found[:, 1:15] += np.tile(_turned_frame_offset(to_level, scale), 7)
            rows.append(found)
        found = np.concatenate(rows)
        if to_copy is not None:  # back to image pixels; boxes keep their turned frame (Detections.roll)
            _turn_back(found, to_copy)
        boxes = np.concatenate([found[:, 1:3], found[:, 1:3] + found[:, 3:5]], axis=1)
        kps = found[:, 5:15].reshape(-1, 5, 2)
        return Detections(boxes.astype(np.float32), found[:, 0] / 100.0, kps.astype(np.float32),
                          roll=np.full(len(found), roll, np.float32))


def _turn_back(found: np.ndarray, to_turned: np.ndarray) -> None:
    """Map YuNet's rows (box x, y, w, h and five keypoints, columns 1-14) found in a turned copy
    back through the (2, 3) map ``to_turned``, in place: box centres and keypoints move, box sizes
    stay in the turned frame."""
    back = invert_affine(to_turned)
    centre = transform_points(found[:, 1:3] + found[:, 3:5] / 2, back)
    found[:, 1:3] = centre - found[:, 3:5] / 2
    found[:, 5:15] = transform_points(found[:, 5:15].reshape(-1, 5, 2), back).reshape(-1, 10)


def _turned_frame_offset(to_level: np.ndarray, scale: float) -> np.ndarray:
    """(2,) pixels to add to points mapped back from a level that was scaled, then turned.

    ``/ scale`` maps a level's pixels back with an offset of ``0.5 / scale - 0.5`` px along each
    axis (OpenCV resizes about pixel centres). Upright levels carry it along the image's axes; when
    the full image was turned before scaling, turned levels carried it along the turned axes, and
    the box calibration (detect/calibration.py) was fitted that way. This moves the offset back to
    the turned axes, so scaling before turning (which bounds memory) frames faces as before.
    """
    e = np.full(2, 0.5 / scale - 0.5)
    return (e - invert_affine(to_level)[:, :2] @ e).astype(np.float32)


def _concat(parts: list[Detections], smallest: float) -> Detections:
    if not parts:
        return Detections.empty(smallest)
    return Detections(np.concatenate([p.boxes for p in parts]), np.concatenate([p.scores for p in parts]),
                      np.concatenate([p.keypoints for p in parts]), smallest, np.concatenate([p.roll for p in parts]))
