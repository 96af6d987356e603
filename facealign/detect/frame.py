"""Upright framing of rolled faces: the roll angle from two eye points, and boxes measured in the
face's own upright frame. A crop made with ``crop_matrix(box, ..., rotation_deg=roll)`` shows the
face upright, as the models saw faces in training."""

from __future__ import annotations

import numpy as np


def roll_degrees(image_left_eye: np.ndarray, image_right_eye: np.ndarray) -> np.ndarray:
    """(N, 2), (N, 2) eye points -> (N,) roll in degrees: the angle of the line from the eye on the
    image's left to the other, clockwise on screen (image y points down); 0 for an upright face."""
    d = np.asarray(image_right_eye, np.float64) - np.asarray(image_left_eye, np.float64)
    return np.degrees(np.arctan2(d[..., 1], d[..., 0]))


def rotate(vectors: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """(N, ..., 2) vectors rotated by (N,) angles (clockwise on screen for positive angles)."""
    a = np.radians(np.asarray(degrees, np.float64)).reshape(-1, *([1] * (np.ndim(vectors) - 2)))
    x, y = vectors[..., 0], vectors[..., 1]
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * x - s * y, s * x + c * y], axis=-1)


def upright_boxes(points: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, P, 2) points, (N,) roll -> (N, 4) boxes: each is the points' tight box in the frame
    turned by ``-roll`` (the face made upright), placed around the same centre in the image."""
    p = np.asarray(points, np.float64)
    mid = p.mean(axis=1, keepdims=True)
    q = rotate(p - mid, -np.asarray(roll, np.float64))
    lo, hi = q.min(axis=1), q.max(axis=1)
    centre = mid[:, 0] + rotate(((lo + hi) / 2)[:, None], roll)[:, 0]
    half = (hi - lo) / 2
    return np.concatenate([centre - half, centre + half], axis=1)


def turned_size(height: int, width: int, degrees: float) -> tuple[int, int]:
    """(height, width) of the canvas that holds an image of this size turned by ``degrees``."""
    a = np.radians(degrees)
    c, s = abs(np.cos(a)), abs(np.sin(a))
    return int(np.ceil(height * c + width * s)), int(np.ceil(height * s + width * c))


def turned_copy(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The image turned ``degrees`` counter-clockwise on screen about its centre, on a canvas that
    keeps all of it, and the (2, 3) map from image to copy pixels. A face rolled by ``degrees``
    (:func:`roll_degrees`) is upright in the copy."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
    nh, nw = turned_size(h, w, degrees)
    m[:, 2] += [(nw - w) / 2, (nh - h) / 2]
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)), m
