"""Systematic offset of a model's landmarks from a data set's labels, by face size.

Usage:
    python tools/label_bias.py MODEL DATA [--every N] [--threads 2] [--mirror]

Prints the mean signed error (prediction - label) in x and y, in image pixels and in % of the
inter-ocular distance, overall and per quartile of inter-ocular distance. A model trained with
mirror augmentation on labels that are not mirror-symmetric shows an x offset here (see
docs/data.md, YTF-68); an unbiased model shows offsets well under 0.1 px.

--mirror measures how far the labels are from mirror-symmetric, for ``augment.flip_shift``. MODEL
must be trained *without* flips, so that it has learned the labels' own convention; it runs on the
mirrored faces and its points are mirrored back. Where label j sits o_j off the face's true point,
the mirrored-back point j misses its label by -(o_j + o_perm(j)) in x (perm: the scheme's mirror
pairs), which is the shift a mirrored label needs. Run it on training data, never on the data
you select with. Prints the shift per landmark in landmark-box sizes, as a config line.
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
    ap.add_argument("--mirror", action="store_true", help="measure augment.flip_shift (see above)")
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
    if args.mirror:
        print_flip_shift(model, data)
        return
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


def print_flip_shift(model, data) -> None:
    """Run ``model`` on the mirrored faces of ``data``; print the per-landmark ``flip_shift``."""
    import dataclasses

    from facealign.data.sample import LandmarkSet
    from facealign.metrics.nme import normalizing_distance
    from facealign.predict.on_dataset import predict_dataset

    perm = np.asarray(data.scheme.flip_perm)
    mirrored, widths = [], []
    for s in data.samples:
        image = s.load_image()
        widths.append(image.shape[1])
        points = s.landmarks.astype(np.float64, copy=True)
        points[:, 0] = image.shape[1] - 1 - points[:, 0]  # pixel centres: x -> W - 1 - x
        mirrored.append(dataclasses.replace(s, image=np.ascontiguousarray(image[:, ::-1]), landmarks=points[perm],
                                            box=None))
    pred, _ = predict_dataset(model, LandmarkSet(data.name, data.scheme, mirrored))
    back_x = np.asarray(widths, np.float64)[:, None] - 1 - pred[:, perm, 0]
    gt = data.landmarks()
    size = normalizing_distance(gt, data.scheme, "bbox")  # the landmark-box size flip_shift is counted in
    need_px = gt[..., 0] - back_x  # (N, K): how far each mirrored label must move, image pixels
    shift = (need_px / size[:, None]).mean(axis=0)
    print("| faces | landmark-box size px | shift, image px | shift, box sizes |")
    print("|---|---|---|---|")
    edges = np.quantile(size, [0, 0.25, 0.5, 0.75, 1.0])
    for a, b in [(edges[0], edges[-1])] + list(zip(edges[:-1], edges[1:])):
        k = (size >= a) & (size <= b)
        print(f"| {k.sum()} | {a:.0f}-{b:.0f} | {need_px[k].mean():+.2f} | {(need_px[k] / size[k, None]).mean():+.4f} |")
    print(f"\n{len(data)} faces of {data.name}, mirrored; per landmark, in landmark-box sizes "
          f"(mean {shift.mean():+.4f}, {shift.min():+.4f} to {shift.max():+.4f}):")
    print("augment:\n  flip_shift: [" + ", ".join(f"{v:.4f}" for v in shift) + "]")


if __name__ == "__main__":
    main()
