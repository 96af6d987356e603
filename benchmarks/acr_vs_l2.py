"""ACR vs L2 vs Wing: the same MobileNetV2-128 recipe on YTF-68, only the loss differs.

Usage:
    python benchmarks/acr_vs_l2.py [--epochs 30] [--losses acr l2 wing] [--out runs/bench_acr_vs_l2]

Trains one model per loss from configs/ytf68_mnv2_128_acr.yaml (resuming any run already in
--out), then evaluates each run's best (by validation NME) and final model on YTF-68 val and
prints a Markdown table: NME (inter-ocular), FR@0.10, AUC@0.10, and training images/s (median
over epochs, this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from facealign.data import load_dataset
from facealign.evaluation import evaluate_landmarks
from facealign.predict import predict_dataset
from facealign.train import load_train_config, train
from facealign.zoo import load_model

CONFIG = "configs/ytf68_mnv2_128_acr.yaml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--losses", nargs="+", default=["acr", "l2", "wing"])
    ap.add_argument("--out", default="runs/bench_acr_vs_l2")
    ap.add_argument("--config", default=CONFIG)
    args = ap.parse_args()
    results = {}
    for loss in args.losses:
        out = Path(args.out) / loss
        cfg = load_train_config(args.config, {"loss.name": loss, "epochs": args.epochs, "out_dir": str(out)})
        res = train(cfg, resume=True)
        val = load_dataset(cfg.data.val)
        row = {"img_per_s": statistics.median(h["img_per_s"] for h in res.history), "best_epoch": res.best_epoch}
        for which in ("best", "final"):
            model = load_model(out / f"{which}.safetensors")
            pred, _ = predict_dataset(model, val)
            r = evaluate_landmarks(val, pred, name=f"{loss}-{which}")
            row[which] = {k: r.overall[k] for k in ("nme", "fr", "auc")}
        results[loss] = row
        print(json.dumps({loss: row}), flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nMobileNetV2 128 px, YTF-68 train -> val ({args.epochs} epochs, {os.cpu_count()} cores)\n")
    print("| loss | NME % (best) | FR@10 % | AUC@10 % | NME % (final) | FR@10 % | AUC@10 % | train img/s |")
    print("|---|---|---|---|---|---|---|---|")
    for loss, r in results.items():
        b, f = r["best"], r["final"]
        print(f"| {loss} | {b['nme']:.2f} | {b['fr']:.2f} | {b['auc']:.1f} | {f['nme']:.2f} | {f['fr']:.2f} | "
              f"{f['auc']:.1f} | {r['img_per_s']:.0f} |")


if __name__ == "__main__":
    main()
