"""Systematic offset of a model's landmarks from a data set's labels, by face size.

Usage:
    python tools/label_bias.py MODEL DATA [--every N] [--threads 2]

Prints the mean signed error (prediction - label) in x and y, in image pixels and in % of the
inter-ocular distance, overall and per quartile of inter-ocular distance. A model trained with
mirror augmentation on labels that are not mirror-symmetric shows an x offset here (see
docs/data.md, YTF-68); an unbiased model shows offsets well under 0.1 px.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model name, alias or .safetensors path")
    ap.add_argument("data", help="FORMAT:PATH, e.g. csv:../shared/data/ytf68/train/landmarks.csv")
    ap.add_argument("--every", type=int, default=1, help="use every N-th face")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    from facealign.data import load_dataset
    from facealign.data.sample import LandmarkSet
    from facealign.metrics.nme import nme, normalizing_distance
    from facealign.predict.on_dataset import predict_dataset
    from facealign.zoo import load_model

    torch.set_num_threads(args.threads)
    full = load_dataset(args.data)
    data = LandmarkSet(full.name, full.scheme, full.samples[:: max(1, args.every)])
    model = load_model(args.model).eval()
    pred, _ = predict_dataset(model, data)
    gt = data.landmarks()
    iod = normalizing_distance(gt, data.scheme)
    err = (pred - gt).mean(axis=1)  # (N, 2) mean signed offset per face
    rel = err / iod[:, None] * 100
    print(f"{args.model} on {data.name}: {len(data)} faces")
    print("| faces | inter-ocular px | x offset px | y offset px | x % IOD | y % IOD |")
    print("|---|---|---|---|---|---|")
    edges = np.quantile(iod, [0, 0.25, 0.5, 0.75, 1.0])
    groups = [("all", np.ones(len(iod), bool))]
    for a, b in zip(edges[:-1], edges[1:]):
        groups.append((f"{a:.0f}-{b:.0f}", (iod >= a) & (iod <= b)))
    for name, k in groups:
        print(f"| {k.sum()} | {name} | {err[k, 0].mean():+.2f} | {err[k, 1].mean():+.2f} | "
              f"{rel[k, 0].mean():+.2f} | {rel[k, 1].mean():+.2f} |")

    shifted = pred - err.mean(axis=0)
    print(f"\nNME {nme(pred, gt, data.scheme).mean() * 100:.2f} %; with the mean offset "
          f"({err[:, 0].mean():+.2f}, {err[:, 1].mean():+.2f}) px removed: {nme(shifted, gt, data.scheme).mean() * 100:.2f} %")


if __name__ == "__main__":
    main()
