"""How far the generic 3D face's yaw drifts when a face's real depth differs from it.

Usage: python benchmarks/pose_bias.py

A face whose depth (z) is the generic one's times 0.8 (flatter) or 1.2 (deeper), and whose
jaw-line points, once turned past 30 degrees, slide onto the visible silhouette the way landmark
models place hidden contour points, is projected at known yaw through the same camera
``head_pose`` assumes; the table gives the yaw ``head_pose`` reads back. No image is involved:
this isolates the model's error from the landmarks'.
"""

from __future__ import annotations

import cv2
import numpy as np

from facealign.pose import face_model_3d, head_pose
from facealign.pose.solve import camera_matrix


def project(shape: np.ndarray, yaw: float, size=(480, 640)) -> np.ndarray:
    y = np.radians(yaw)
    r = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rvec, _ = cv2.Rodrigues(r)
    pts, _ = cv2.projectPoints(shape, rvec, np.array([0.0, 0.0, 700.0]), camera_matrix(size), None)
    return pts.reshape(68, 2)


def silhouette(shape: np.ndarray, yaw: float) -> np.ndarray:
    """Jaw points of the far side (0-7 for a face turned to the image's left) moved to the
    silhouette: the occluding contour of a turned head lies further toward the nose."""
    s = shape.copy()
    if yaw > 30:
        frac = min((yaw - 30) / 60, 1.0)
        far = list(range(0, 8))
        s[far, 0] = s[far, 0] * (1 - 0.5 * frac)
        s[far, 2] = s[far, 2] - 25 * frac
    return s


def main() -> None:
    base = face_model_3d()
    yaws = [0, 15, 30, 45, 60, 75]
    rows = {"generic face": base, "depth x 0.8": base * [1, 1, 0.8], "depth x 1.2": base * [1, 1, 1.2],
            "generic face, jaw on the silhouette": None}
    print("| face | " + " | ".join(f"yaw {y}" for y in yaws) + " |")
    print("|---|" + "---|" * len(yaws))
    for name, shape in rows.items():
        got = []
        for y in yaws:
            s = silhouette(base, y) if shape is None else shape
            got.append(head_pose(project(s, y)[None], "300w", (480, 640)).angles[0, 0])
        print(f"| {name} | " + " | ".join(f"{g:.1f}" for g in got) + " |")


if __name__ == "__main__":
    main()
