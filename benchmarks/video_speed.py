"""Video throughput through the public API against dlib's pipeline, in one run.

Usage:
    python benchmarks/video_speed.py [--frames 300] [--side 640] [--reps 2]

The clip: the YTF-68 val frames of the person with the most frames, each scaled to a
``--side`` x ``--side`` frame, repeated to ``--frames`` frames, written as MJPG (the frames are a
few short clips of one face, so tracking meets the cuts between them as it would in a video).
Rows, frames per second (the best of ``--reps`` interleaved rounds; decoding included in all):
- dlib: OpenCV decodes, HOG detector (no up-sampling at this size) + shape predictor, every frame;
- ``process_video`` (what ``facealign predict CLIP.mp4 --out DIR`` runs), defaults: detection
  every 10 frames, tracking in between, frames decoded ahead in a thread;
- the same without decoding ahead (``FRAMES_AHEAD = 0``);
- the same with detection on every frame (``--detect-every 1``).
A tracked frame's crop comes from the previous frame's landmarks, so frames run one after another
(the faces of one frame share a model pass); decoding ahead is what overlaps.

Needs dlib (``pip install 'facealign[dlib]'``) and the predictor file of ``face-recognition-models``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).parent))
from public_speed import SHARED, best_of, dlib_pipeline  # noqa: E402


def make_clip(path: Path, frames: int, side: int) -> None:
    from facealign.data import load_dataset

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    person = Counter(Path(str(s.key)).stem.rsplit("_", 1)[0] for s in val.samples).most_common(1)[0][0]
    mine = sorted((s for s in val.samples if Path(str(s.key)).stem.rsplit("_", 1)[0] == person), key=lambda s: str(s.key))
    tiles = [cv2.resize(cv2.imread(str(s.image)), (side, side), interpolation=cv2.INTER_CUBIC) for s in mine]
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (side, side))
    for i in range(frames):
        w.write(tiles[i % len(tiles)])
    w.release()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--side", type=int, default=640)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()

    from training_engine import cpu_name

    import facealign.predict.video as video
    from facealign.predict import FaceAligner

    load = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp())
    clip = tmp / "clip.avi"
    make_clip(clip, args.frames, args.side)
    dlib_run = dlib_pipeline()
    aligner = FaceAligner()

    def dlib_clip():
        cap = cv2.VideoCapture(str(clip))
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            dlib_run(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        cap.release()

    def ours(detect_every: int = 10, ahead: int = video.FRAMES_AHEAD):
        def run():
            video.FRAMES_AHEAD = ahead
            try:
                video.process_video(aligner, str(clip), tmp / "out.jsonl", detect_every=detect_every)
            finally:
                video.FRAMES_AHEAD = default_ahead
        return run

    default_ahead = video.FRAMES_AHEAD
    ref = "dlib: HOG detector + shape predictor on every frame"
    rows = {ref: dlib_clip,
            f"facealign: process_video, defaults (detection every 10 frames, {default_ahead} frames decoded ahead, "
            f"{aligner.precision})": ours(),
            "facealign: the same, no decoding ahead": ours(ahead=0),
            "facealign: the same, detection on every frame (--detect-every 1)": ours(detect_every=1)}
    times = best_of(rows, args.reps)
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {load:.2f} at start; best of {args.reps} rounds\n")
    print(f"A {args.side}x{args.side} MJPG clip of {args.frames} frames (YTF-68 val frames of one person), "
          "decoding included\n")
    print("| pipeline | frames/s | vs dlib |\n|---|---|---|")
    for k, t in times.items():
        print(f"| {k} | {args.frames / t:.0f} | {times[ref] / t:.2f}x |")


if __name__ == "__main__":
    main()
