"""Where real faces' five points land after ArcFace alignment.

Usage: python benchmarks/alignment_residuals.py [--size 112]

On all YTF-68 val faces (ground-truth landmarks): the median distance, in crop pixels, of each
of the five alignment points from its template position after the least-squares similarity.
The residual is the faces' own shape and pose (a turned head moves its nose tip off the
template), not the fit.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=112)
    args = ap.parse_args()
    from facealign.align import alignment_matrices, apply_matrix, template_points
    from facealign.data import load_dataset

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    mats, five = alignment_matrices(val.landmarks().astype(np.float64), val.scheme, size=args.size)
    landed = np.stack([apply_matrix(m, f) for m, f in zip(mats, five)])
    med = np.median(np.linalg.norm(landed - template_points(args.size), axis=-1), axis=0)
    names = ("image-left eye", "image-right eye", "nose tip", "image-left mouth corner", "image-right mouth corner")
    print(f"YTF-68 val, {len(val)} faces, {args.size} px ArcFace crop: median distance from the template (px)\n")
    print("| point | median px |\n|---|---|")
    for n, m in zip(names, med):
        print(f"| {n} | {m:.1f} |")


if __name__ == "__main__":
    main()
