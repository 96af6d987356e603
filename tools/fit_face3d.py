"""Fit the generic 3D face behind head pose from YTF-68 *train*'s 2D landmarks.

Usage: python tools/fit_face3d.py [--out facealign/pose/face3d_68.json]

Method: rigid structure from motion under weak perspective (Tomasi & Kanade, IJCV 1992): the
centred 2D landmarks of F faces, stacked as a 2F x 68 matrix, are a rank-3 product of per-face
projection rows and one 3 x 68 shape; the SVD gives both up to an affine ambiguity, which the
metric constraints (each face's two projection rows orthogonal and of equal length) remove up to
a rotation and a mirror. The shape is then set in the head frame (x from the image-left eye corner
to the other, y from the eyes down to the mouth, z into the head, nose tip in front), made
left-right symmetric by averaging it with its mirror image, and scaled so that the outer eye
corners are 90 mm apart (an adult average; the scale only sets the distance in the translation
vector, never an angle). Faces of one identity move between frames, so identities with a range
of head poses constrain the depth; expression and identity differences average out.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"
EYE_CORNERS_MM = 90.0


def factorize(points: np.ndarray) -> np.ndarray:
    """(F, K, 2) landmarks -> (K, 3) shape, up to rotation and mirror."""
    c = points - points.mean(axis=1, keepdims=True)
    c = c / np.linalg.norm(c, axis=(1, 2), keepdims=True)  # one weight per face, whatever its size
    w = np.concatenate([c[..., 0], c[..., 1]], axis=0)  # (2F, K): all x rows, then all y rows
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    m = u[:, :3] * np.sqrt(s[:3])
    shape = np.sqrt(s[:3])[:, None] * vt[:3]
    f = len(points)
    a, b = m[:f], m[f:]

    def row(p, q):  # coefficients of p^T L q in the 6 unknowns of the symmetric L
        return np.stack([p[:, 0] * q[:, 0], p[:, 0] * q[:, 1] + p[:, 1] * q[:, 0], p[:, 0] * q[:, 2] + p[:, 2] * q[:, 0],
                         p[:, 1] * q[:, 1], p[:, 1] * q[:, 2] + p[:, 2] * q[:, 1], p[:, 2] * q[:, 2]], axis=1)

    eqs = np.concatenate([row(a, a) - row(b, b), row(a, b)])
    target = np.zeros(len(eqs))
    # fix the scale: the mean squared length of the rows is 1
    eqs = np.concatenate([eqs, row(a, a).mean(0, keepdims=True)])
    target = np.concatenate([target, [1.0]])
    sol = np.linalg.lstsq(eqs, target, rcond=None)[0]
    big_l = np.array([[sol[0], sol[1], sol[2]], [sol[1], sol[3], sol[4]], [sol[2], sol[4], sol[5]]])
    vals, vecs = np.linalg.eigh(big_l)
    if (vals <= 0).any():
        raise SystemExit(f"metric upgrade failed: L has eigenvalues {vals}")
    q = vecs * np.sqrt(vals)
    return (np.linalg.inv(q) @ shape).T


def head_frame(shape: np.ndarray, flip_perm: np.ndarray) -> np.ndarray:
    """(68, 3) shape -> the same in the head frame, symmetric, in millimetres."""
    p = shape - shape.mean(0)
    x = p[45] - p[36]
    x /= np.linalg.norm(x)
    down = p[48:68].mean(0) - (p[36:48].mean(0))
    y = down - (down @ x) * x
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    p = p @ np.stack([x, y, z]).T
    if p[30, 2] > p[[36, 45], 2].mean():  # the nose tip must stand out towards the camera (-z)
        p[:, 2] *= -1
    mirror = p[flip_perm] * [-1, 1, 1]
    p = (p + mirror) / 2
    p -= p.mean(0)
    return p * EYE_CORNERS_MM / np.linalg.norm(p[45] - p[36])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="facealign/pose/face3d_68.json")
    args = ap.parse_args()
    from facealign.data import load_dataset
    from facealign.schemes import IBUG_68

    train = load_dataset(f"csv:{SHARED / 'ytf68/train/landmarks.csv'}")
    pts = train.landmarks().astype(np.float64)
    # each face and its mirror image: both are real poses, and the pair cancels the labels' bias
    mirrored = IBUG_68.flip_points(pts, 0.0)
    shape = head_frame(factorize(np.concatenate([pts, mirrored])), np.asarray(IBUG_68.flip_perm))
    record = {
        "scheme": "300w",
        "units": "mm",
        "axes": "x: image-left outer eye corner -> the other; y: eyes -> mouth (down); z: into the head",
        "source": "python tools/fit_face3d.py: weak-perspective factorization (Tomasi & Kanade 1992) of the "
                  f"{len(pts)} YTF-68 train faces and their mirror images; symmetrized; outer eye corners "
                  f"{EYE_CORNERS_MM:g} mm apart",
        "points": np.round(shape, 3).tolist(),
    }
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    depth = shape[:, 2]
    print(f"wrote {args.out}: nose tip {depth[30] - depth[[36, 45]].mean():.1f} mm in front of the eye corners, "
          f"chin {shape[8, 1] - shape[27, 1]:.1f} mm below the nose bridge, jaw width {shape[16, 0] - shape[0, 0]:.1f} mm")


if __name__ == "__main__":
    main()
