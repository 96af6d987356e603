"""Yaw, pitch and roll of faces from their landmarks.

The generic face (``face3d_68.json``) was fitted to YTF-68 *train* by ``tools/fit_face3d.py``;
each face's pose is the rotation and translation that project it best onto the landmarks through
a pinhole camera whose focal length is the image's longer side (about a 53-degree field of view,
a phone's main camera) and whose principal point is the image centre (``cv2.solvePnP``, iterative
Levenberg-Marquardt from the EPnP solution).

Angles, in degrees, of the head relative to the camera (0, 0, 0: facing the camera, upright):
- yaw: turned about the vertical axis; positive when the face turns toward the image's left;
- pitch: about the horizontal axis; positive when the face turns down;
- roll: in the image plane; positive clockwise on screen (as ``detect.frame.roll_degrees``).
Known bias: a generic shape fits one face's real depth only on average, so beyond about 45
degrees of yaw, where the far half of the face hides behind the nose, the angle is typically
under-estimated (docs/faces.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from facealign.schemes import Scheme, get_scheme
from facealign.schemes.maps import SCHEME_MAPS, map_points

FACE_3D_FILE = Path(__file__).with_name("face3d_68.json")


@dataclass
class HeadPose:
    """Head pose of N faces (NaN rows where a face's pose could not be solved).

    Attributes:
        angles: (N, 3) float32 yaw, pitch, roll in degrees.
        rotation: (N, 3) float32 Rodrigues rotation vectors (head frame -> camera).
        translation: (N, 3) float32 translation vectors in millimetres (camera frame).
    """

    angles: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray


@lru_cache(maxsize=1)
def face_model_3d() -> np.ndarray:
    """(68, 3) float64 generic face in millimetres (x right, y down, z into the head)."""
    data = json.loads(FACE_3D_FILE.read_text())
    pts = np.asarray(data["points"], np.float64)
    if pts.shape != (68, 3) or not np.isfinite(pts).all():
        raise ValueError(f"{FACE_3D_FILE}: expected 68 finite 3D points, got shape {pts.shape}")
    return pts


def camera_matrix(image_size: tuple[int, int]) -> np.ndarray:
    """(3, 3) pinhole intrinsics for an (height, width) image: focal = longer side, centre principal point."""
    h, w = image_size
    f = float(max(h, w))
    return np.array([[f, 0.0, (w - 1) / 2.0], [0.0, f, (h - 1) / 2.0], [0.0, 0.0, 1.0]])


def euler_degrees(rvec: np.ndarray) -> np.ndarray:
    """Rodrigues vector -> (yaw, pitch, roll) degrees, with R = Rz(roll) Ry(yaw) Rx(pitch).

    The face's forward direction (-z of the head frame) then points to (-sin yaw cos pitch,
    sin pitch, -cos yaw cos pitch) in the camera frame: left for positive yaw, down for positive
    pitch.
    """
    r, _ = cv2.Rodrigues(np.asarray(rvec, np.float64).reshape(3, 1))
    yaw = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    pitch = np.arctan2(r[2, 1], r[2, 2])
    roll = np.arctan2(r[1, 0], r[0, 0])
    return np.degrees([yaw, pitch, roll])


def head_pose(landmarks: np.ndarray, scheme: str | Scheme, image_size: tuple[int, int]) -> HeadPose:
    """Head pose of (N, K, 2) landmarks of a scheme with a 3D face (300w, or wflw through its map to 300w).

    Schemes without one give NaN rows (the shape of the result never changes).
    """
    sch = get_scheme(scheme)
    pts = np.asarray(landmarks, np.float64).reshape(-1, sch.num_points, 2)
    n = len(pts)
    nan = np.full((n, 3), np.nan, np.float32)
    if sch.name != "300w":
        if (sch.name, "300w") not in SCHEME_MAPS:
            return HeadPose(nan, nan.copy(), nan.copy())
        pts = map_points(pts, sch, "300w")
    model, cam = face_model_3d(), camera_matrix(image_size)
    angles, rots, trans = nan.copy(), nan.copy(), nan.copy()
    for i, p in enumerate(pts):
        if not np.isfinite(p).all():
            continue
        ok, rvec, tvec = cv2.solvePnP(model, p.reshape(-1, 1, 2), cam, None, flags=cv2.SOLVEPNP_EPNP)
        if ok:
            ok, rvec, tvec = cv2.solvePnP(model, p.reshape(-1, 1, 2), cam, None, rvec, tvec, True,
                                          flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok or tvec[2, 0] <= 0:  # a solution behind the camera is no pose
            continue
        angles[i], rots[i], trans[i] = euler_degrees(rvec), rvec.ravel(), tvec.ravel()
    return HeadPose(angles, rots, trans)
