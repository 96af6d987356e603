"""Accuracy of the whole pipeline: detector box -> crop -> model (-> refine passes), not the
ground-truth landmark box that `facealign evaluate` crops with.

Usage:
    python benchmarks/pipeline_accuracy.py [--model default] [--detectors dlib cascade] [--refine 0 1 2] [--flip]
        [--precision auto|fp32|int8] [--decimals 2] [--refine-tolerance T ...]

On YTF-68 val (one face per image): for each detector and number of refine passes, the share of
faces found (a detection whose box contains the centre of the face's landmark box), and the NME,
FR@0.10 and AUC of the found faces; the last row is the ground-truth-box protocol (P1) for
comparison. ``--refine-tolerance`` adds a row per tolerance for each refine count above 0 (default:
the aligner's own, 0.05 behind YuNet). ``--flip`` adds flip test-time augmentation to every pass (two model runs per pass).
Prints a Markdown table.
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
    ap.add_argument("--detectors", nargs="+", default=["yunet", "dlib", "cascade"])
    ap.add_argument("--refine", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--flip", action="store_true", help="flip test-time augmentation in every pass")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "int8"],
                    help="the model's fp32 or bundled int8 file (auto: as FaceAligner picks on this CPU)")
    ap.add_argument("--decimals", type=int, default=2, help="decimals of the NME column")
    ap.add_argument("--refine-tolerance", type=float, nargs="+", default=[None],
                    help="refine passes re-run faces whose box moved more than this fraction (default: the aligner's)")
    args = ap.parse_args()
    flip = True if args.flip else None

    from facealign.data import load_dataset
    from facealign.detect import dlib_available
    from facealign.metrics.nme import nme, summarize
    from facealign.predict import FaceAligner

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    images = [s.load_image() for s in val.samples]
    gt = val.landmarks()
    ran = FaceAligner(args.model, precision=args.precision).precision
    print(f"model {args.model} ({ran}){', flip test-time augmentation' if args.flip else ''}, YTF-68 val ({len(val)} faces)\n")
    print("| detector | refine passes | refine tolerance | faces found % | NME % (found faces) | FR@0.10 % | AUC@0.10 % |")
    print("|---|---|---|---|---|---|---|")
    for det in args.detectors:
        if det == "dlib" and not dlib_available():
            print("| dlib | | not installed | | | |")
            continue
        for refine, tolerance in [(r, t) for r in args.refine for t in (args.refine_tolerance if r else [None])]:
            al = FaceAligner(args.model, detector=det, refine=refine, threads=args.threads, flip=flip,
                             precision=args.precision, refine_tolerance=tolerance)
            pred = np.full(gt.shape, np.nan, np.float32)
            for i, (s, res) in enumerate(zip(val.samples, al.predict(images))):
                b = s.landmark_box()
                c = (b[:2] + b[2:]) / 2
                inside = [j for j, bx in enumerate(res.boxes) if bx[0] <= c[0] <= bx[2] and bx[1] <= c[1] <= bx[3]]
                if inside:  # the largest such face
                    pred[i] = res.landmarks[inside[0]]
            found = ~np.isnan(pred[:, 0, 0])
            r = summarize(nme(pred[found], gt[found], val.scheme))
            nme_text = f"{r['nme']:.{args.decimals}f}"
            tol = f"{al.refine_tolerance:g}" if refine else ""
            print(f"| {det} | {refine} | {tol} | {found.mean() * 100:.1f} | {nme_text} | {r['fr']:.2f} | {r['auc']:.1f} |")
    al = FaceAligner(args.model, threads=args.threads, refine=0, flip=flip, precision=args.precision)
    boxes = [s.landmark_box()[None] for s in val.samples]
    pred = np.stack([r.landmarks[0] for r in al.predict(images, boxes=boxes)])
    r = summarize(nme(pred, gt, val.scheme))
    print(f"| ground-truth landmark box (P1, as `facealign evaluate`) | 0 | | 100.0 | {r['nme']:.{args.decimals}f} | "
          f"{r['fr']:.2f} | {r['auc']:.1f} |")


if __name__ == "__main__":
    main()
