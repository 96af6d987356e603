"""Head pose on real faces: mirror symmetry, in-plane rotation, a frontal face, known rotations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import ASTRONAUT

from facealign.pose import face_model_3d, head_pose
from facealign.pose.solve import camera_matrix
from facealign.schemes import IBUG_68


def _rotation(yaw, pitch, roll):
    y, p, r = np.radians([yaw, pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


@pytest.mark.parametrize("angles", [(20, 0, 0), (0, 15, 0), (0, 0, -10), (35, -12, 8)])
def test_known_rotations_are_recovered(angles):
    size = (480, 640)
    rvec, _ = cv2.Rodrigues(_rotation(*angles))
    pts, _ = cv2.projectPoints(face_model_3d(), rvec, np.array([0.0, 0.0, 700.0]), camera_matrix(size), None)
    pose = head_pose(pts.reshape(1, 68, 2), "300w", size)
    np.testing.assert_allclose(pose.angles[0], angles, atol=0.05)
    np.testing.assert_allclose(pose.translation[0], [0, 0, 700], atol=0.5)
    if angles[0] > 0:  # positive yaw: the nose tip moves toward the image's left of the face centre
        assert pts[30, 0, 0] < pts[:, 0, 0].mean()


def test_mirroring_negates_yaw_and_roll_on_real_faces(ytf_val):
    for s in ytf_val.samples[::60]:
        h, w = s.load_image().shape[:2]
        a = head_pose(s.landmarks[None], "300w", (h, w)).angles[0]
        b = head_pose(IBUG_68.flip_points(s.landmarks[None], w), "300w", (h, w)).angles[0]
        assert abs(a[0] + b[0]) < 2 and abs(a[2] + b[2]) < 2 and abs(a[1] - b[1]) < 2


@pytest.mark.parametrize("theta", [-30, 15, 40])
def test_turning_the_image_in_plane_changes_roll_by_the_angle(ytf_val, theta):
    for s in ytf_val.samples[5::80]:
        h, w = s.load_image().shape[:2]
        centre = ((w - 1) / 2, (h - 1) / 2)
        m = cv2.getRotationMatrix2D(centre, -theta, 1.0)  # OpenCV turns counter-clockwise for positive angles
        turned = s.landmarks @ m[:, :2].T + m[:, 2]
        a = head_pose(s.landmarks[None], "300w", (h, w)).angles[0]
        b = head_pose(turned[None], "300w", (h, w)).angles[0]
        assert abs((b[2] - a[2] - theta + 180) % 360 - 180) < 2
        assert abs(b[0] - a[0]) < 3 and abs(b[1] - a[1]) < 3


def test_frontal_photo_and_its_mirror_through_the_pipeline():
    """The bundled portrait faces the camera: within 10 degrees of 0 on every angle, and its
    mirror image gives the opposite yaw and roll through detection and model. Within 3 degrees
    here, not the 2 of the landmark-level test above: the default model learnt YTF-68's labels,
    which sit about 1 px right of mirror-symmetric (docs/data.md), and that shifts a mirrored
    face's points the other way (measured: yaw -2.46 and +4.47)."""
    from facealign.data import read_image
    from facealign.predict import FaceAligner

    img = read_image(ASTRONAUT)
    al = FaceAligner("default")
    a = al.predict(img).pose().angles[0]
    b = al.predict(np.ascontiguousarray(img[:, ::-1])).pose().angles[0]
    assert np.abs(a).max() < 10
    assert abs(a[0] + b[0]) < 3 and abs(a[2] + b[2]) < 3


def test_schemes_without_a_3d_face_give_nan_rows_and_json_leaves_pose_out():
    from facealign.predict.result import FaceResult
    from facealign.schemes import get_scheme

    pose = head_pose(np.zeros((2, 29, 2)), "cofw", (100, 100))
    assert pose.angles.shape == (2, 3) and np.isnan(pose.angles).all()
    res = FaceResult(np.zeros((1, 4), np.float32), np.random.default_rng(0).uniform(0, 50, (1, 29, 2)).astype(np.float32),
                     np.ones((1, 29), np.float32), np.ones(1, np.float32), get_scheme("cofw"), (100, 100))
    assert "pose" not in res.to_json()["faces"][0]
