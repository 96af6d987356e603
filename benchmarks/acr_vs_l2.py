"""ACR vs L2 vs Wing: the same MobileNetV2-128 recipe on YTF-68, only the loss differs.

Usage:
    python benchmarks/acr_vs_l2.py [--epochs 30] [--losses acr l2 wing] [--out runs/bench_acr_vs_l2]
                                   [--set KEY=VALUE ...] [--tag NAME]

Trains one model per loss from configs/ytf68_mnv2_128_acr.yaml (resuming any run already in
--out), then evaluates each run's best (by validation NME) and final model on YTF-68 val. Each
run's numbers go to --out/<loss><tag>/result.json; the Markdown table printed at the end holds
every run found in --out (so runs made by separate invocations, e.g. with other --set overrides
under another --tag, share one table): NME (inter-ocular), FR@0.10, AUC@0.10, and training
images/s (median over epochs, this machine).

``--set loss.pca_draws=0 --tag=-pca0`` trains ACR with the shape model fitted on the faces
as they are instead of the default augmented copies (issue 17).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import yaml

from facealign.data import load_dataset
from facealign.metrics.evaluation import evaluate_landmarks
from facealign.predict import predict_dataset
from facealign.train import load_train_config, train
from facealign.zoo import load_model

CONFIG = "configs/ytf68_mnv2_128_acr.yaml"


def override(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set needs KEY=VALUE, got {text!r}")
    return key, yaml.safe_load(value)


def run_one(loss: str, args: argparse.Namespace) -> dict:
    out = Path(args.out) / f"{loss}{args.tag}"
    cfg = load_train_config(args.config, {"loss.name": loss, "epochs": args.epochs, "out_dir": str(out), **dict(args.set)})
    res = train(cfg, resume=True)
    val = load_dataset(cfg.data.val)
    row = {"img_per_s": statistics.median(h["img_per_s"] for h in res.history), "best_epoch": res.best_epoch,
           "epochs": args.epochs, "overrides": dict(args.set)}
    for which in ("best", "final"):
        model = load_model(out / f"{which}.safetensors")
        pred, _ = predict_dataset(model, val)
        r = evaluate_landmarks(val, pred, name=f"{loss}-{which}")
        row[which] = {k: r.overall[k] for k in ("nme", "fr", "auc")}
    (out / "result.json").write_text(json.dumps(row, indent=2))
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--losses", nargs="+", default=["acr", "l2", "wing"])
    ap.add_argument("--out", default="runs/bench_acr_vs_l2")
    ap.add_argument("--config", default=CONFIG)
    ap.add_argument("--set", type=override, action="append", default=[], metavar="KEY=VALUE",
                    help="training-config override for every run (e.g. loss.pca_draws=0)")
    ap.add_argument("--tag", default="", help="suffix of the run folders and table rows")
    args = ap.parse_args()
    for loss in args.losses:
        print(json.dumps({f"{loss}{args.tag}": run_one(loss, args)}), flush=True)
    rows = {p.parent.name: json.loads(p.read_text()) for p in sorted(Path(args.out).glob("*/result.json"))}
    print(f"\nMobileNetV2 128 px, YTF-68 train -> val ({os.cpu_count()} cores)\n")
    print("| run | overrides | epochs | NME % (best) | FR@10 % | AUC@10 % | NME % (final) | FR@10 % | AUC@10 % | train img/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        b, f = r["best"], r["final"]
        sets = ", ".join(f"{k}={v}" for k, v in r.get("overrides", {}).items()) or "-"
        print(f"| {name} | {sets} | {r.get('epochs', '?')} | {b['nme']:.2f} | {b['fr']:.2f} | {b['auc']:.1f} | "
              f"{f['nme']:.2f} | {f['fr']:.2f} | {f['auc']:.1f} | {r['img_per_s']:.0f} |")


if __name__ == "__main__":
    main()
