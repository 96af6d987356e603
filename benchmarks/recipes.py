"""The H3R paper recipes as numbers: parameters, GMACs, data-pipeline rate and GPU estimates.

Usage: python benchmarks/recipes.py [--gpu-tflops 25] [--n 256]

For every configs/*_rr_paper*.yaml: parameters and multiply-accumulates of one forward pass at the
recipe's input size (counted on the built model; the papers' "FLOPs" are multiply-accumulates),
the CPU data pipeline's crops/s in one process with the recipe's augmentation (decode + crop +
augment, timed on the real benchmark photos of the recipe's format in the fixtures, which have the
benchmarks' image sizes; nothing is trained on them), and two ESTIMATES for one GPU: training img/s if the GPU sustains
--gpu-tflops on 3x the forward FLOPs (forward + backward), the loader workers that keep that GPU
fed, and the GPU-minutes of the recipe (epochs x training faces of the benchmark) at the slower of
the GPU and --workers loader processes. Small networks do not reach a GPU's compute rate (they are
bound by memory and kernel launches), so their img/s estimates are upper bounds. Prints a Markdown
table.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks_gflops import gflops  # noqa: E402

from facealign.data import load_dataset  # noqa: E402
from facealign.data.dataset import CropDataset  # noqa: E402
from facealign.models.landmark_model import LandmarkModel  # noqa: E402
from facealign.train import load_train_config  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# Training faces of each benchmark's official train split (docs/data.md).
TRAIN_FACES = {"wflw": 7500, "300w": 3148, "lapa": 18176}


FIXTURES = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data/fixtures/benchmark-samples/official-layouts"
SAMPLES = {"wflw": f"wflw:{FIXTURES / 'wflw'}", "300w": f"300w:{FIXTURES / '300w'}", "lapa": f"lapa:{FIXTURES / 'lapa'}"}


def crops_per_second(data, cfg, n: int) -> float:
    # a P2 crop costs the same as a P1 crop; not every sample set has detector boxes
    ds = CropDataset(data, dataclasses.replace(cfg.model, box="landmarks"), cfg.augment, seed=0)
    ds[0]
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        ds[i % len(ds)]
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu-tflops", type=float, default=25.0, help="assumed sustained training throughput of one GPU")
    ap.add_argument("--workers", type=int, default=8, help="loader processes per GPU for the time estimate")
    ap.add_argument("--n", type=int, default=256, help="crops timed per recipe")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"CPU: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}; GPU estimates assume "
          f"{args.gpu_tflops:g} TFLOP/s sustained and {args.workers} loader workers per GPU\n")
    print("| config | params M | GMACs | crops/s per loader process | est. GPU img/s | "
          "est. loader workers to feed it | est. GPU-minutes |")
    print("|---|---|---|---|---|---|---|")
    rates: dict[tuple[str, int], float] = {}
    for path in sorted(glob.glob(str(REPO / "configs" / "*_rr_paper*.yaml"))):
        cfg = load_train_config(path)
        ds_name = cfg.data.train.split(":", 1)[0]
        model = LandmarkModel(cfg.model).eval()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        macs = gflops(model, cfg.model.input_size) / 2
        key = (ds_name, cfg.model.input_size)
        if key not in rates:
            rates[key] = crops_per_second(load_dataset(SAMPLES[ds_name], split="all" if ds_name == "300w" else "test"),
                                          cfg, args.n)
        gpu_img_s = args.gpu_tflops * 1e12 / (3 * 2 * macs * 1e9)
        minutes = cfg.epochs * TRAIN_FACES[ds_name] / min(gpu_img_s, args.workers * rates[key]) / 60
        print(f"| {Path(path).name} | {params:.2f} | {macs:.2f} | {rates[key]:.0f} | {gpu_img_s:.0f} | "
              f"{gpu_img_s / rates[key]:.1f} | {minutes:.0f} |", flush=True)


if __name__ == "__main__":
    main()
