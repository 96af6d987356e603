"""Images per second: plain `facealign predict` (one process) against the Ray Data path.

Usage: python benchmarks/ray_throughput.py [--images 200] [--actors 2]

Both run the default pipeline over the same YTF-68 val images. Ray's costs are given apart: its
own start-up (``ray.init`` of a local instance), then the job (actor pool start and the actors'
model loads included, as every job pays them) as images/s. Plain ``predict`` is timed after its
model load.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    import ray

    from facealign.data.images import read_image
    from facealign.distributed import predict_on_ray
    from facealign.predict import FaceAligner

    paths = sorted(str(p) for p in (SHARED / "ytf68/val/images").glob("*.jpg"))[:args.images]
    t0 = time.perf_counter()
    al = FaceAligner(threads=os.cpu_count())
    start_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(0, len(paths), args.batch):
        al.predict([read_image(p) for p in paths[i:i + args.batch]])
    plain = time.perf_counter() - t0

    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    ray_up = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        predict_on_ray(paths, Path(d) / "run", shard_size=100, actors=args.actors, batch_size=args.batch)
        run = time.perf_counter() - t0
    ray.shutdown()
    n = len(paths)
    print(f"{n} YTF-68 val images, default pipeline, {os.cpu_count()} CPUs\n")
    print("| engine | start-up s | images/s | wall s (start-up included) |")
    print("|---|---|---|---|")
    print(f"| plain (one process, {os.cpu_count()} threads; after the model load) | {start_plain:.1f} | {n / plain:.1f} | "
          f"{start_plain + plain:.1f} |")
    print(f"| Ray Data, {args.actors} actors x 1 thread (actor start and model loads included) | {ray_up:.1f} | "
          f"{n / run:.1f} | {ray_up + run:.1f} |")


if __name__ == "__main__":
    main()
