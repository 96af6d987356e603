"""Rolled faces: YTF-68 val faces turned by 0, 45 and 90 degrees, through the whole pipeline.

Usage:
    python benchmarks/rolled_faces.py [--model default] [--every 4] [--refine 0 1]

For the default search (the image as it is; turned copies only when it finds no face) and the
rolled search (`--rolled`: also turned by +-45 and +-90 degrees), the share of faces found and the
NME of the found faces, with crops turned upright (the default) and, for comparison, with crops
kept axis-aligned. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from field_images import SHARED, rotated  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--refine", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args()

    from facealign.data import load_dataset
    from facealign.metrics.nme import nme, summarize
    from facealign.predict import FaceAligner

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    samples = val.samples[:: args.every]
    print(f"model {args.model}, {len(samples)} YTF-68 val faces (every {args.every}th)\n")
    print("| search | crops | refine | angle | found % | NME % | FR@0.10 % |\n|---|---|---|---|---|---|---|")
    for rolled in (False, True):
        for upright in (True, False):
            if not upright and rolled:
                continue
            for refine in args.refine:
                al = FaceAligner(args.model, refine=refine, rolled=rolled, upright=upright)
                for angle in (0, 45, 90):
                    pred, gt = [], []
                    for s in samples:
                        img, pts = rotated(s, angle) if angle else (s.load_image(), s.landmarks)
                        res = al.predict(img)
                        c = (pts.min(0) + pts.max(0)) / 2
                        hits = [j for j, b in enumerate(res.boxes) if b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3]]
                        if hits:
                            pred.append(res.landmarks[hits[0]])
                            gt.append(pts)
                    r = summarize(nme(np.array(pred), np.array(gt, np.float32), val.scheme))
                    search, crops = "rolled (--rolled)" if rolled else "default", "upright" if upright else "axis-aligned"
                    found = len(pred) / len(samples) * 100
                    print(f"| {search} | {crops} | {refine} | {angle} | {found:.1f} | {r['nme']:.2f} | {r['fr']:.2f} |",
                          flush=True)


if __name__ == "__main__":
    main()
