"""Aligned crops of faces from their landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facealign.align.similarity import umeyama
from facealign.align.templates import TEMPLATES, template_points
from facealign.errors import ConfigError
from facealign.schemes import Scheme, get_scheme
from facealign.schemes.maps import five_points


@dataclass
class AlignedFaces:
    """Aligned crops of N faces.

    Attributes:
        crops: (N, S, S, 3) uint8 RGB.
        matrices: (N, 2, 3) float64: image pixels -> crop pixels of each face
            (:func:`facealign.align.invert_matrix` maps crop points back).
        five: (N, 5, 2) float64 alignment points in the image (eye centres, nose tip, mouth corners).
    """

    crops: np.ndarray
    matrices: np.ndarray
    five: np.ndarray

    def __len__(self) -> int:
        return len(self.crops)


def ffhq_matrix(five: np.ndarray, size: int) -> np.ndarray:
    """(2, 3) matrix of the FFHQ-style loose crop from (5, 2) alignment points.

    The recipe of the FFHQ data set (Karras et al., CVPR 2019): the crop is centred a tenth of
    the eye-to-mouth vector below the eyes' midpoint, oriented by the eye line blended with the
    eye-to-mouth direction, with a side of max(4 x eye distance, 3.6 x eye-to-mouth distance).
    """
    eye_l, eye_r = five[0], five[1]
    mouth = (five[3] + five[4]) / 2
    eye_avg = (eye_l + eye_r) / 2
    eye_to_eye, eye_to_mouth = eye_r - eye_l, mouth - eye_avg
    x = eye_to_eye - np.array([-eye_to_mouth[1], eye_to_mouth[0]])
    x = x / max(np.hypot(*x), 1e-9) * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.array([-x[1], x[0]])
    c = eye_avg + eye_to_mouth * 0.1
    corners = np.stack([c - x - y, c + x - y, c + x + y])  # top-left, top-right, bottom-right
    # the crop's outer pixel edges (pixel centres at integers, docs/data.md)
    dst = np.array([[-0.5, -0.5], [size - 0.5, -0.5], [size - 0.5, size - 0.5]])
    return cv2.getAffineTransform(corners.astype(np.float32), dst.astype(np.float32)).astype(np.float64)


# Crop sides the aligner makes (ArcFace's is 112, FFHQ's 1024).
MIN_CROP_SIZE, MAX_CROP_SIZE = 16, 4096


def alignment_matrices(landmarks: np.ndarray, scheme: str | Scheme, size: int = 112, template: str = "arcface",
                       padding: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(N, K, 2) landmarks -> ((N, 2, 3) image -> crop matrices, (N, 5, 2) alignment points)."""
    if template not in TEMPLATES:
        raise ConfigError(f"unknown template {template!r}; choose one of {list(TEMPLATES)}")
    if not MIN_CROP_SIZE <= int(size) <= MAX_CROP_SIZE:
        raise ConfigError(f"crop size must be in [{MIN_CROP_SIZE}, {MAX_CROP_SIZE}], got {size}")
    five = five_points(np.asarray(landmarks, np.float64).reshape(-1, get_scheme(scheme).num_points, 2), scheme)
    if template == "ffhq":
        mats = [ffhq_matrix(f, size) for f in five]
    else:
        dst = template_points(size, padding)
        mats = [umeyama(f, dst) for f in five]
    return np.stack(mats) if mats else np.zeros((0, 2, 3)), five


def align_faces(image: np.ndarray, landmarks: np.ndarray, scheme: str | Scheme, size: int = 112,
                template: str = "arcface", padding: float = 0.0) -> AlignedFaces:
    """Aligned crops of the faces of one image.

    Args:
        image: (H, W, 3) uint8 RGB.
        landmarks: (N, K, 2) landmarks of N faces in ``scheme`` (any scheme with declared five
            points: 300w, wflw, lapa, aflw).
        size: Crop side S in pixels (112 for ArcFace; 128, 224, 256 ... scale the template).
        template: ``arcface`` (a similarity fitted by least squares to the ArcFace template) or
            ``ffhq`` (the FFHQ data set's loose crop).
        padding: ArcFace only: extra margin per side as a fraction of the crop (see
            :func:`template_points`).
    """
    mats, five = alignment_matrices(landmarks, scheme, size, template, padding)
    crops = [cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
             for m in mats]
    empty = np.zeros((0, size, size, 3), np.uint8)
    return AlignedFaces(np.stack(crops) if crops else empty, mats, five)
