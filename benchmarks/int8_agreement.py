"""How far the bundled int8 model's landmarks are from fp32's, through the default pipeline.

Usage:
    python benchmarks/int8_agreement.py [--model default] [--refine-tolerance T]

Runs ``FaceAligner(precision="fp32")`` and ``FaceAligner(precision="int8")`` (defaults otherwise)
on every YTF-68 val frame and prints the distance between the two models' landmarks of each face
found by both: mean, median, 99th percentile and largest, in pixels and as a share of the face's
landmark box side. (NME of each against the labels: benchmarks/pipeline_accuracy.py --precision.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--refine-tolerance", type=float, default=None, help="for both aligners (default: theirs)")
    args = ap.parse_args()

    from facealign.data import load_dataset
    from facealign.predict import FaceAligner

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    images = [s.load_image() for s in val.samples]
    tol = args.refine_tolerance
    fp32 = FaceAligner(args.model, precision="fp32", refine_tolerance=tol).predict(images)
    int8 = FaceAligner(args.model, precision="int8", refine_tolerance=tol).predict(images)
    dist, side = [], []
    for a, b in zip(fp32, int8):
        if len(a.landmarks) != len(b.landmarks):
            continue
        dist.append(np.linalg.norm(a.landmarks - b.landmarks, axis=-1).ravel())
        side.append(np.repeat(np.ptp(a.landmarks, axis=1).max(-1), a.landmarks.shape[1]))
    d, s = np.concatenate(dist), np.concatenate(side)
    print(f"model {args.model}, YTF-68 val: {len(dist)} of {len(images)} frames with as many faces in both\n")
    print("| int8 vs fp32 landmarks | mean | median | 99th percentile | largest |\n|---|---|---|---|---|")
    print(f"| pixels | {d.mean():.2f} | {np.median(d):.2f} | {np.percentile(d, 99):.2f} | {d.max():.1f} |")
    r = d / s * 100
    print(f"| % of the face's box side | {r.mean():.2f} | {np.median(r):.2f} | {np.percentile(r, 99):.2f} | {r.max():.1f} |")


if __name__ == "__main__":
    main()
