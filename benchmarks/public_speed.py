"""Speed through the public API, against dlib's pipeline, in one run: what a user calls.

Usage:
    python benchmarks/public_speed.py [--frames 200] [--folder 1000] [--reps 3] [--levers]

Rows (each the best of ``--reps`` interleaved repetitions, so background noise hits every row alike):
- video-size frames: ``FaceAligner().predict(frame)`` with its defaults, one decoded YTF-68 val frame
  (213-250 px) a call, and the same frames 16 to a call (faces of several frames in one model pass),
  against dlib's HOG detector (up-sampled once under 400 px, as its examples) + its 68-point shape
  predictor on the same arrays;
- a phone-size group photo (20 val faces on a 4032 px canvas, benchmarks/field_images.py): the
  default ``predict`` against dlib's detector on the full image + the predictor;
- a folder: ``facealign predict FOLDER --out DIR`` (the command, start-up, decoding and writing
  included) on ``--folder`` frames, against a dlib script that reads the same files and writes one
  JSON each; images per second.
``--levers`` adds rows for settings this project measured while tuning the defaults: the fp32 and
the int8 model (``precision``; the default ``"auto"`` picks int8 on CPUs with AVX-512 VNNI), every
face re-run in the refine pass (``refine_tolerance=0``, the behaviour before 2026-12-04), no refine
pass; on the group photo, YuNet's finest level within 2 and 1 megapixels.
benchmarks/speed.py runs these tables after its landmark-stage table.

Needs dlib (``pip install 'facealign[dlib]'``) and the predictor file of ``face-recognition-models``.
Prints Markdown tables; every ratio is against dlib in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def best_of(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Seconds of each function, the best of ``reps`` rounds that run every function once in turn."""
    for fn in fns.values():
        fn()  # warm: sessions, caches, first-call costs
    best = {k: float("inf") for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def predictor_path() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs face-recognition-models (pip install face-recognition-models)")
    return Path(spec.submodule_search_locations[0]) / "models" / "shape_predictor_68_face_landmarks.dat"


def dlib_pipeline():
    import dlib

    det, pred = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path()))

    def run(image: np.ndarray, upsample_small: bool = True) -> list[np.ndarray]:
        up = 1 if upsample_small and max(image.shape[:2]) < 400 else 0
        return [np.array([[p.x, p.y] for p in pred(image, r).parts()], np.float32) for r in det(image, up)]
    return run


def lever_aligners(FaceAligner) -> dict[str, Any]:
    """Aligners for the --levers rows: the defaults with one setting changed."""
    return {"the fp32 model (precision='fp32')": FaceAligner(precision="fp32"),
            "the int8 model (precision='int8')": FaceAligner(precision="int8"),
            "refine pass on every face (refine_tolerance=0)": FaceAligner(refine_tolerance=0.0),
            "no refine pass (refine=0)": FaceAligner(refine=0)}


def group_lever_aligners(FaceAligner) -> dict[str, Any]:
    """Aligners for the --levers rows of the group photo: the detector's pixel budget, the precision."""
    from facealign.detect import SearchPolicy, create_detector

    rows = {"the fp32 model (precision='fp32')": FaceAligner(precision="fp32")}
    for mp in (2.0, 1.0):
        rows[f"YuNet's finest level within {mp:g} megapixels"] = FaceAligner(
            detector=create_detector("yunet", SearchPolicy(max_pixels=mp * 1e6)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--folder", type=int, default=1000, help="frames in the folder run (0: skip it)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--levers", action="store_true")
    args = ap.parse_args()
    run(args.frames, args.folder, args.reps, args.levers)


def run(n_frames: int = 200, folder: int = 1000, reps: int = 3, levers: bool = False) -> None:
    """Print the tables (benchmarks/speed.py calls this for its public-API part)."""
    from facealign.data import load_dataset
    from facealign.predict import FaceAligner

    sys.path.insert(0, str(Path(__file__).parent))
    from field_images import group_photo
    from training_engine import cpu_name

    load = os.getloadavg()[0]
    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    frames = [s.load_image() for s in val.samples[:n_frames]]
    dlib_run = dlib_pipeline()
    aligner = FaceAligner()

    def per_frame(fn):
        return lambda: [fn(f) for f in frames]

    rows: dict[str, Callable[[], object]] = {
        "dlib: HOG detector (up-sampled under 400 px) + shape predictor": per_frame(dlib_run),
        f"facealign: FaceAligner().predict(frame), defaults ({aligner.precision})": per_frame(aligner.predict),
        "facealign: FaceAligner().predict(16 frames a call)": lambda: [aligner.predict(frames[i:i + 16])
                                                                       for i in range(0, len(frames), 16)],
    }
    if levers:
        for name, al in lever_aligners(FaceAligner).items():
            rows[f"facealign: {name}"] = per_frame(al.predict)
    times = best_of(rows, reps)
    ref = times["dlib: HOG detector (up-sampled under 400 px) + shape predictor"]
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {load:.2f} at start; best of {reps} rounds\n")
    print(f"Video-size frames: {len(frames)} decoded YTF-68 val frames ({frames[0].shape[1]}x{frames[0].shape[0]} px "
          "and alike), one face each\n")
    print("| pipeline | ms/frame | vs dlib |\n|---|---|---|")
    for k, t in times.items():
        print(f"| {k} | {t / len(frames) * 1000:.2f} | {ref / t:.2f}x |")

    group, _ = group_photo(val, 4032)
    group_runs: dict[str, Callable[[], Any]] = {
        "dlib: HOG detector on the full image + shape predictor": lambda: dlib_run(group, False),
        f"facealign: FaceAligner().predict(photo), defaults ({aligner.precision})": lambda: aligner.predict(group)}
    if levers:
        for name, al in group_lever_aligners(FaceAligner).items():
            group_runs[f"facealign: {name}"] = lambda al=al: al.predict(group)
    gtimes = best_of(group_runs, reps)
    found = {k: len(fn()) for k, fn in group_runs.items()}
    gref = gtimes["dlib: HOG detector on the full image + shape predictor"]
    print(f"\nPhone-size group photo ({group.shape[1]}x{group.shape[0]} px, 20 faces)\n")
    print("| pipeline | faces found | ms | vs dlib |\n|---|---|---|---|")
    for k, t in gtimes.items():
        print(f"| {k} | {found[k]} | {t * 1000:.0f} | {gref / t:.2f}x |")
    if folder:
        folder_rows(folder, reps)


def folder_rows(n: int, reps: int) -> None:
    """``facealign predict FOLDER`` against a dlib script over the same files, images per second."""
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "frames"
    src.mkdir()
    files = sorted((SHARED / "ytf68" / "train" / "images").glob("*.jpg"))[:n]
    for f in files:
        shutil.copy(f, src / f.name)
    script = tmp / "dlib_folder.py"
    script.write_text(DLIB_FOLDER.format(predictor=str(predictor_path())))

    out = tmp / "out"

    def cmd(argv):
        def run():
            shutil.rmtree(out, ignore_errors=True)  # both write every file anew each round
            subprocess.run(argv, check=True, capture_output=True)
        return run

    facealign_cmd = [sys.executable, "-m", "facealign", "predict", str(src), "--out", str(out)]
    dlib_cmd = [sys.executable, str(script), str(src), str(out)]
    times = best_of({"dlib script (decode, detect, predict, one JSON a file)": cmd(dlib_cmd),
                     "facealign predict FOLDER --out DIR (defaults)": cmd(facealign_cmd)}, reps)
    ref = times["dlib script (decode, detect, predict, one JSON a file)"]
    print(f"\nA folder of {len(files)} YTF-68 train frames, the command end to end (start-up, decoding, writing)\n")
    print("| command | s | images/s | vs dlib |\n|---|---|---|---|")
    for k, t in times.items():
        print(f"| {k} | {t:.1f} | {len(files) / t:.0f} | {ref / t:.2f}x |")


DLIB_FOLDER = '''import json, sys
from pathlib import Path
import dlib, numpy as np
from PIL import Image
det, pred = dlib.get_frontal_face_detector(), dlib.shape_predictor({predictor!r})
src, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for f in sorted(src.glob("*.jpg")):
    im = np.asarray(Image.open(f).convert("RGB"))
    faces = [[[p.x, p.y] for p in pred(im, r).parts()] for r in det(im, 1 if max(im.shape[:2]) < 400 else 0)]
    (out / (f.stem + ".json")).write_text(json.dumps({{"faces": faces}}))
'''


if __name__ == "__main__":
    main()
