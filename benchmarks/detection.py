"""Face detectors on real faces: detection rate, time per image, and the box calibration.

Usage:
    python benchmarks/detection.py [--write-calibration]

For each available detector (cascade, dlib): on YTF-68 train and val and on the benchmark samples
(300-W, WFLW, COFW, LaPa, AFLW, 300-VW, Menpo), the fraction of annotated faces that a detection
matches (its box contains the centre of the face's landmark box and has IoU > 0.2 with it), and
the mean time per image. With --write-calibration, fits each detector's box-to-landmark-box
shift and scale on YTF-68 *train* matches (medians) and writes facealign/detect/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from facealign.data import load_dataset
from facealign.detect import CascadeDetector, DlibHOGDetector, dlib_available
from facealign.detect.calibration import CALIBRATION_FILE

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"
FIX = SHARED / "fixtures" / "benchmark-samples"
SETS = {
    "ytf68-train": f"csv:{SHARED / 'ytf68/train/landmarks.csv'}",
    "ytf68-val": f"csv:{SHARED / 'ytf68/val/landmarks.csv'}",
    "300w": f"300w:{FIX / 'official-layouts/300w'}",
    "300vw": f"300w:{FIX / '300vw'}",
    "wflw": f"wflw:{FIX / 'official-layouts/wflw'}",
    "cofw": f"cofw:{FIX / 'official-layouts/cofw/COFW_test.mat'}",
    "lapa": f"lapa:{FIX / 'official-layouts/lapa'}",
    "aflw": f"coco:{FIX / 'aflw/test_aflw.json'}",
}


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[:, 0], b[0]), np.maximum(a[:, 1], b[1])
    x2, y2 = np.minimum(a[:, 2], b[2]), np.minimum(a[:, 3], b[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def run(detector, spec: str):
    data = load_dataset(spec)
    by_image: dict[str, list] = {}
    for s in data.samples:
        by_image.setdefault(s.source if not hasattr(s.image, "is_file") else str(s.image), []).append(s)
    hits, pairs, t = 0, [], 0.0
    for faces in by_image.values():
        img = faces[0].load_image()
        t0 = time.perf_counter()
        det = detector.detect(img)
        t += time.perf_counter() - t0
        for s in faces:
            gt = s.landmark_box()
            if not len(det):
                continue
            c = (gt[:2] + gt[2:]) / 2
            inside = (det.boxes[:, 0] <= c[0]) & (c[0] <= det.boxes[:, 2]) & (det.boxes[:, 1] <= c[1]) & (c[1] <= det.boxes[:, 3])
            ov = np.where(inside, iou(det.boxes, gt), 0)
            j = int(np.argmax(ov))
            if ov[j] > 0.2:
                hits += 1
                pairs.append((det.boxes[j], gt))
    return hits / len(data), len(data), t / len(by_image) * 1000, pairs


def fit_calibration(pairs) -> dict[str, float]:
    d = np.array([p[0] for p in pairs], np.float64)
    g = np.array([p[1] for p in pairs], np.float64)
    side = np.maximum(d[:, 2] - d[:, 0], d[:, 3] - d[:, 1])
    dx = ((g[:, 0] + g[:, 2]) / 2 - (d[:, 0] + d[:, 2]) / 2) / side
    dy = ((g[:, 1] + g[:, 3]) / 2 - (d[:, 1] + d[:, 3]) / 2) / side
    scale = np.maximum(g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]) / side
    return {"dx": float(np.median(dx)), "dy": float(np.median(dy)), "scale": float(np.median(scale)), "faces": len(pairs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-calibration", action="store_true")
    ap.add_argument("--sets", nargs="+", default=list(SETS))
    args = ap.parse_args()
    dets = [("cascade", CascadeDetector())]
    if dlib_available():
        dets.append(("dlib", DlibHOGDetector()))
    print(f"machine: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}")
    print("| detector | data | faces | detected % | ms / image |\n|---|---|---|---|---|")
    calib = {}
    for name, det in dets:
        for set_name in args.sets:
            rate, n, ms, pairs = run(det, SETS[set_name])
            print(f"| {name} | {set_name} | {n} | {rate * 100:.1f} | {ms:.1f} |", flush=True)
            if set_name == "ytf68-train":
                calib[name] = fit_calibration(pairs)
    if args.write_calibration and calib:
        CALIBRATION_FILE.write_text(json.dumps({
            "source": "python benchmarks/detection.py --write-calibration (medians over matched YTF-68 train faces)",
            "detectors": calib}, indent=2) + "\n")
        print(f"\nwrote {CALIBRATION_FILE}: {json.dumps(calib)}")


if __name__ == "__main__":
    main()
