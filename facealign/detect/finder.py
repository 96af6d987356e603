"""``FaceFinder``: the face pipeline before the landmark model, in one place.

Detect (a named detector under a search policy, a boxes file, or a detector object), drop boxes
smaller than the policy allows, and frame each face like a landmark box (the detector's
calibration; with ``upright`` the crop's roll from the eye keypoints). ``FaceAligner`` runs it
before its model; the server, video and training's detector-framed crops run the same object.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from facealign.detect import BoxesDetector, Detections, FaceDetector, SearchPolicy, create_detector
from facealign.detect.calibration import BoxCalibration, calibration_for
from facealign.detect.frame import roll_degrees
from facealign.detect.policy import ALL_ROLLS, smallest_box
from facealign.errors import FaceAlignError

# A user's box may reach past the image (a face cut by its edge), never this many times its size.
MAX_BOX_TO_IMAGE = 4


class FaceFinder:
    """Faces of an image, framed like the landmark boxes a model was trained on.

    Args:
        detector: ``auto``, ``yunet``, ``dlib``, ``cascade``, ``full``, a boxes file (JSON/CSV,
            :class:`~facealign.detect.BoxesDetector`) or a detector object.
        min_face, max_face: Face sizes searched, in the image's pixels (docs/detection.md).
        rolled: Also search the image turned by 45 and 90 degrees either way.
        upright: Frame each face with the roll of its eye keypoints (crops turned upright); off,
            boxes are axis-aligned and rolls 0.
    """

    def __init__(self, detector: Any = "auto", min_face: float = 20, max_face: float | None = None,
                 rolled: bool = False, upright: bool = True):
        self._recipe: tuple[str, SearchPolicy] | None = None
        if isinstance(detector, (str, Path)) and Path(str(detector)).suffix.lower() in (".json", ".csv"):
            self.detector: FaceDetector | BoxesDetector = BoxesDetector(detector)
        else:
            policy = SearchPolicy(min_face=min_face, max_face=max_face, rolls=ALL_ROLLS if rolled else (0.0,))
            self.detector = create_detector(detector, policy)
            if isinstance(detector, str):  # built from a name: each thread may build its own (see detect)
                self._recipe = (detector, policy)
        self.calibration: BoxCalibration = calibration_for(getattr(self.detector, "name", ""))
        self.upright = bool(upright)
        self.min_box = smallest_box(min_face)
        # Detectors (dlib, OpenCV cascades) are not re-entrant. One built from a name is built again
        # in each other thread that detects, so threads (a server's) never wait on each other; a
        # detector object the caller passed is shared under a lock.
        self._lock = threading.Lock()
        self._owner = threading.get_ident()
        self._per_thread = threading.local()

    def find_faces(self, image: np.ndarray, source: str | None = None) -> tuple[Detections, np.ndarray, np.ndarray]:
        """(detections, (N, 4) boxes framed like landmark boxes, (N,) roll of each crop in degrees)."""
        det = self.detect(image, source)
        boxes, roll = self.frame_faces(det)
        return det, boxes, roll

    def detect(self, image: np.ndarray, source: str | None = None) -> Detections:
        """Faces in one RGB image (a boxes file finds them by ``source``, the image's file name)."""
        if isinstance(self.detector, BoxesDetector):
            if source is None:
                raise FaceAlignError("a boxes file finds faces by image name; pass images as paths")
            det = self.detector.boxes_for(source)
            check_boxes_fit(det.boxes, image.shape[:2], f"{self.detector.path}: boxes of {Path(source).name}")
            return det
        if self._recipe is None:  # the caller's detector object: shared, one thread at a time
            with self._lock:
                return self.detector.detect(image).filter(self.min_box)
        if threading.get_ident() == self._owner:
            return self.detector.detect(image).filter(self.min_box)
        if getattr(self._per_thread, "detector", None) is None:
            self._per_thread.detector = create_detector(*self._recipe)
        return self._per_thread.detector.detect(image).filter(self.min_box)

    def frame_faces(self, det: Detections) -> tuple[np.ndarray, np.ndarray]:
        """Detections -> (boxes (N, 4) framed like landmark boxes, roll (N,) degrees of each crop).

        The box and, where the detector gives them, its keypoints (calibrated for the detector)
        give centre and size (docs/detection.md). With ``upright`` on, the crop turns by
        the roll of the eye keypoints, else by the roll of the turned copy the face was found in;
        off, crops stay aligned with the image (boxes made axis-aligned).
        """
        if not self.upright:
            return self.calibration.apply_axis_aligned(det), np.zeros(len(det))
        roll = det.roll.astype(np.float64)
        boxes = self.calibration.apply(det.boxes, roll, det.keypoints)
        kp = det.keypoints
        has_kp = np.isfinite(kp).all(axis=(1, 2)) if len(det) else np.zeros(0, bool)
        roll[has_kp] = roll_degrees(kp[has_kp, 0], kp[has_kp, 1])
        return boxes, roll


def check_boxes_fit(boxes: np.ndarray, image_hw: tuple[int, int], where: str) -> None:
    """Refuse (N, 4) user boxes that lie entirely outside an image of ``image_hw`` (H, W), or are over
    :data:`MAX_BOX_TO_IMAGE` times its longer side: their landmarks would be made up, far off the image."""
    h, w = image_hw
    outside = (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0) | (boxes[:, 0] >= w) | (boxes[:, 1] >= h)
    if outside.any():
        raise FaceAlignError(f"{where}: box {boxes[outside][0].tolist()} lies entirely outside the {w}x{h} image")
    huge = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) > MAX_BOX_TO_IMAGE * max(h, w)
    if huge.any():
        raise FaceAlignError(f"{where}: box {boxes[huge][0].tolist()} is over {MAX_BOX_TO_IMAGE} times the {w}x{h} "
                             "image's longer side")
