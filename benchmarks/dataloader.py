"""Data pipeline throughput: decode + crop + augment, crops/s, with 0, 1 and 2 loader workers.

Usage: python benchmarks/dataloader.py [--sizes 128 160 256] [--n 1024] [--data csv:../shared/data/ytf68/train/landmarks.csv]

Prints a Markdown table per crop size. Ratios are against 0 workers (the main process alone) in
the same run; "per worker" is the rate divided by the workers (with 0 workers: the main process),
the figure that says how many loader processes keep a GPU fed (docs/training.md).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.utils.data import DataLoader

from facealign.data import load_dataset
from facealign.data.augment import AugmentConfig
from facealign.data.dataset import CropDataset
from facealign.models.config import ModelConfig


def measure(ds: CropDataset, workers: int, n: int, batch: int) -> float:
    idx = list(range(n))
    batches = [idx[i:i + batch] for i in range(0, n, batch)]
    loader = DataLoader(ds, batch_sampler=batches, num_workers=workers, prefetch_factor=4 if workers else None)
    it = iter(loader)
    next(it)  # worker start-up is not throughput
    t0 = time.perf_counter()
    count = 0
    for b in it:
        count += len(b["image"])
    return count / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="csv:../shared/data/ytf68/train/landmarks.csv")
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 256])
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = load_dataset(args.data)
    n = min(args.n, len(data))
    print(f"data: {args.data} ({n} faces), batch {args.batch}, cores: {os.cpu_count()}, "
          f"load avg {os.getloadavg()[0]:.2f}")
    print("| crop px | pipeline | workers | crops/s | per worker | ratio to 0 workers |\n|---|---|---|---|---|---|")
    # "H3R recipe": the paper recipes' geometry only (configs/*_rr_paper.yaml)
    recipe = AugmentConfig(scale=(0.75, 1.25), rotation=30.0, translate=0.05, color=0.0, gamma=0.0, blur=0.0,
                           noise=0.0, grayscale=0.0, occlusion=0.0)
    for size in args.sizes:
        for name, aug in (("crop only", None), ("H3R recipe augmentation", recipe),
                          ("full augmentation", AugmentConfig())):
            ds = CropDataset(data, ModelConfig(input_size=size), augment=aug, seed=0)
            base = None
            for w in (0, 1, 2):
                r = measure(ds, w, n, args.batch)
                base = base or r
                print(f"| {size} | {name} | {w} | {r:.0f} | {r / max(w, 1):.0f} | {r / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
