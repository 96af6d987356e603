"""Training crops framed by a face detector, as the inference pipeline frames them.

A model trained on crops around the tight landmark box (P1) meets a different box at inference:
the detector's, calibrated to look like a landmark box (``facealign.detect.calibration``). The
two differ in ways that depend on the face (pose, hair, chin), not only by random jitter, so
drawing random shifts around the landmark box does not teach the model the detector's habits
(measured: docs/inference.md, the pipeline table). Cropping each training face around the
detector's own calibrated box does.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from facealign.data.sample import LandmarkSet
from facealign.errors import ConfigError
from facealign.predict.options import AlignerOptions


def face_of(landmark_box: np.ndarray, boxes: np.ndarray) -> int | None:
    """Index of the largest of (N, 4) ``boxes`` that holds the centre of ``landmark_box``, or None."""
    c = (landmark_box[:2] + landmark_box[2:]) / 2
    inside = (boxes[:, 0] <= c[0]) & (c[0] <= boxes[:, 2]) & (boxes[:, 1] <= c[1]) & (c[1] <= boxes[:, 3])
    if not inside.any():
        return None
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return int(np.argmax(np.where(inside, area, -1.0)))


def detector_boxes(data: LandmarkSet, detector: str, min_face: float = 20) -> tuple[np.ndarray, int]:
    """The calibrated box of ``detector`` for every face of ``data``, as the pipeline frames faces.

    Args:
        data: The training faces (N).
        detector: ``yunet``, ``dlib`` or ``cascade``: the detector the model will run behind.
        min_face: Smallest face searched, in image pixels (the pipeline's default).

    Returns:
        (boxes, missed): (N, 4) float32, for each face the calibrated detector box that holds its
        landmark-box centre, or its landmark box where the detector missed it; ``missed`` counts
        those.
    """
    if detector not in ("yunet", "dlib", "cascade"):
        raise ConfigError(f"data.train_boxes must be yunet, dlib or cascade, got {detector!r}")
    # the pipeline's own face finder, from the same options object; training crops are not turned
    finder = AlignerOptions(detector=detector, min_face=min_face, upright=False).finder()
    boxes, missed, by_image = [], 0, {}
    for s in data.samples:
        key = id(s.image) if isinstance(s.image, np.ndarray) else str(s.image)
        if key not in by_image:  # faces of one image share one search
            by_image[key] = finder.find_faces(s.load_image())[1]
        found_boxes = by_image[key]
        lm_box = s.landmark_box()
        i = face_of(lm_box, found_boxes) if len(found_boxes) else None
        missed += i is None
        boxes.append(lm_box if i is None else found_boxes[i])
    return np.asarray(boxes, np.float32).reshape(-1, 4), missed


def with_boxes(data: LandmarkSet, boxes: np.ndarray) -> LandmarkSet:
    """A copy of ``data`` whose i-th face carries ``boxes[i]`` ((N, 4)) as its box."""
    samples = [dataclasses.replace(s, box=np.asarray(b, np.float32)) for s, b in zip(data.samples, boxes, strict=True)]
    return LandmarkSet(data.name, data.scheme, samples, data.root)


def with_detector_boxes(data: LandmarkSet, detector: str, min_face: float = 20) -> tuple[LandmarkSet, int]:
    """:func:`detector_boxes` set as each face's ``box``: (faces, missed)."""
    boxes, missed = detector_boxes(data, detector, min_face)
    return with_boxes(data, boxes), missed
