"""Video jitter and lag, with and without One-Euro smoothing.

Usage: python benchmarks/jitter.py [--model default] [--faces 5] [--frames 50]

Still face: one YTF-68 val frame repeated with fresh sensor-like noise (Gaussian, sigma 3 grey
levels) in every frame and encoded as MP4 (mp4v), so every bit of landmark motion is jitter.
Jitter = mean frame-to-frame landmark displacement / inter-ocular distance (of the ground truth),
in %. Lag: the same still clip where the face jumps 8 % of the frame width to the right at frame
25; lag = frames until the mean landmark x is within 10 % of the jump of its final value.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from facealign.data import load_dataset
from facealign.predict import FaceAligner
from facealign.predict.video import process_video

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def make_clip(img_bgr: np.ndarray, path: Path, frames: int, jump_at: int | None, rng) -> None:
    h, w = img_bgr.shape[:2]
    pad = int(0.1 * w)
    canvas = cv2.copyMakeBorder(img_bgr, 0, 0, pad, pad, cv2.BORDER_REPLICATE)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
    for t in range(frames):
        off = pad if jump_at is None or t < jump_at else pad - int(0.08 * w)
        frame = canvas[:, off:off + w].astype(np.float32) + rng.normal(0, 3.0, (h, w, 3))
        vw.write(np.clip(frame, 0, 255).astype(np.uint8))
    vw.release()


def track(aligner, clip: Path, smooth: bool) -> np.ndarray:
    import json

    out = clip.with_suffix(f".{int(smooth)}.jsonl")
    process_video(aligner, str(clip), out, smooth=smooth, detect_every=10)
    pts = []
    for line in out.read_text().splitlines():
        faces = json.loads(line)["faces"]
        pts.append(np.array(faces[0]["landmarks"]) if faces else np.full((68, 2), np.nan))
    return np.stack(pts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--faces", type=int, default=5)
    ap.add_argument("--frames", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    # the largest faces of different people
    by_person = {}
    for s in val.samples:
        by_person.setdefault(s.key.rsplit("_", 1)[0], s)
    picks = sorted(by_person.values(), key=lambda s: -np.ptp(s.landmarks[:, 0]))[: args.faces]
    aligner = FaceAligner(args.model, detector="auto")
    tmp = Path(tempfile.mkdtemp())
    jit = {False: [], True: []}
    lag = {False: [], True: []}
    for i, s in enumerate(picks):
        img = cv2.cvtColor(s.load_image(), cv2.COLOR_RGB2BGR)
        iod = float(np.linalg.norm(s.landmarks[36] - s.landmarks[45]))
        still, jump = tmp / f"still{i}.mp4", tmp / f"jump{i}.mp4"
        make_clip(img, still, args.frames, None, rng)
        make_clip(img, jump, args.frames, 25, rng)
        for smooth in (False, True):
            p = track(aligner, still, smooth)
            d = np.linalg.norm(np.diff(p, axis=0), axis=-1).mean(axis=1)
            jit[smooth].append(np.nanmean(d) / iod * 100)
            x = track(aligner, jump, smooth)[:, :, 0].mean(axis=1)
            final, before = np.nanmean(x[-5:]), np.nanmean(x[20:25])
            settle = next(t for t in range(25, len(x)) if abs(x[t] - final) <= 0.1 * abs(final - before))
            lag[smooth].append(settle - 25)
    print(f"\n{len(picks)} YTF-68 val faces, {args.frames}-frame clips at 25 fps, model {args.model}\n")
    print("| smoothing | jitter (% of inter-ocular distance per frame) | lag after a jump (frames) |")
    print("|---|---|---|")
    for smooth in (False, True):
        print(f"| {'One-Euro' if smooth else 'none'} | {np.mean(jit[smooth]):.3f} | {np.mean(lag[smooth]):.1f} |")


if __name__ == "__main__":
    main()
