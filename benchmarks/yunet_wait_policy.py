"""YuNet's time per image with OpenMP's passive and active waiting, on a quiet machine.

Usage:
    python benchmarks/yunet_wait_policy.py [--images 200] [--rounds 3]

YuNetDetector sets OMP_WAIT_POLICY=PASSIVE (unless the user set it) because spinning OpenMP
threads slowed it tenfold beside a busy process. This measures what passive waiting costs when
nothing else runs: each policy in its own fresh process (the runtime reads the variable once, when
it loads), alternating ACTIVE and PASSIVE for --rounds rounds, on the first --images YTF-68 val
images (the default search policy). Prints the median ms per image of each process and the ratio
PASSIVE / ACTIVE of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def child(images: int) -> None:
    import time

    from facealign.data import load_dataset
    from facealign.detect import YuNetDetector

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    imgs = [s.load_image() for s in val.samples[:images]]
    det = YuNetDetector()
    for img in imgs[:10]:
        det.detect(img)
    ts = []
    for img in imgs:
        t0 = time.perf_counter()
        det.detect(img)
        ts.append(time.perf_counter() - t0)
    print(json.dumps({"ms": statistics.median(ts) * 1000}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.images)
        return
    ms: dict[str, list[float]] = {"ACTIVE": [], "PASSIVE": []}
    for _ in range(args.rounds):
        for policy in ms:
            out = subprocess.run([sys.executable, __file__, "--child", "--images", str(args.images)], check=True,
                                 capture_output=True, text=True, env={**os.environ, "OMP_WAIT_POLICY": policy}).stdout
            ms[policy].append(json.loads(out.strip().splitlines()[-1])["ms"])
    print(f"YTF-68 val, first {args.images} images, {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}\n")
    print("| OMP_WAIT_POLICY | median ms / image, each process | median |\n|---|---|---|")
    for policy, v in ms.items():
        print(f"| {policy} | {', '.join(f'{x:.2f}' for x in v)} | {statistics.median(v):.2f} |")
    print(f"\nPASSIVE / ACTIVE: {statistics.median(ms['PASSIVE']) / statistics.median(ms['ACTIVE']):.3f}")


if __name__ == "__main__":
    main()
