"""What the JSON output's head pose costs per face, against the landmark stage it follows.

Usage:
    python benchmarks/json_output.py [--faces 200] [--threads 2]

On YTF-68 val faces (ground-truth landmark boxes, one face per image), times per face, medians of
repeated calls in the same run: the default model's landmark stage (ONNX Runtime, one face per
call, as a photo with one face runs), ``FaceResult.to_json()`` with the head pose solved (what
``facealign predict --format json`` writes), and the same JSON without the pose (the pose
precomputed, so only the formatting is timed). Prints a Markdown table with each row's ratio to
the landmark stage.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from speed import timeit

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from facealign.data import load_dataset
    from facealign.predict import FaceAligner

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    samples = val.samples[: args.faces]
    images = [s.load_image() for s in samples]
    boxes = [s.landmark_box()[None] for s in samples]
    al = FaceAligner("default", backend="onnx", refine=0, threads=args.threads)
    results = [al.predict(img, boxes=b) for img, b in zip(images, boxes)]
    posed = [dataclasses.replace(r, _pose=r.pose()) for r in results]

    def landmark_stage():
        for img, b in zip(images, boxes):
            al.align([img], [b], refine=0)

    def json_with_pose():
        for r in results:
            dataclasses.replace(r, _pose=None).to_json()

    def json_only():
        for r in posed:
            r.to_json()

    n = len(samples)
    stage = timeit(landmark_stage, reps=5, warm=1) / n
    rows = [("landmark stage, one pass (ONNX Runtime)", stage),
            ("to_json with the head pose (solvePnP)", timeit(json_with_pose, reps=5, warm=1) / n),
            ("to_json, pose already solved", timeit(json_only, reps=5, warm=1) / n)]
    print(f"YTF-68 val, {n} faces, {args.threads} threads, {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}\n")
    print("| step | ms per face | x landmark stage |\n|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {t * 1000:.3f} | {t / stage:.3f} |")


if __name__ == "__main__":
    main()
