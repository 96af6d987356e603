"""Put a trained model into the package's model zoo (facealign/zoo/weights + models.json).

Usage:
    python tools/bundle_model.py RUN_DIR/best.safetensors --name ytf68-mnv2-128 [--default]
        [--description TEXT] [--val csv:../shared/data/ytf68/val/landmarks.csv] [--flip-shift CONFIG]

Copies the weights (with the model config and the training config in the metadata; a model
trained with ``augment.flip_shift`` gets it as ``flip_shift`` in its config, so that flip
test-time augmentation keeps the labels' convention), evaluates them on the validation set, and
records sha256 and the measured numbers in the registry. With --default the name also becomes
the alias "default".
"""

from __future__ import annotations

import argparse
import json
import os

from facealign.data import load_dataset
from facealign.metrics.evaluation import evaluate_landmarks
from facealign.models import read_model_file, save_model
from facealign.models.landmark_model import load_model_file
from facealign.predict import predict_dataset
from facealign.train.config import load_train_config
from facealign.zoo import REGISTRY, WEIGHTS, sha256_file


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--name", required=True)
    ap.add_argument("--default", action="store_true")
    ap.add_argument("--description", default=None, help="default: the entry's description, if it has one")
    ap.add_argument("--val", default="csv:../shared/data/ytf68/val/landmarks.csv")
    ap.add_argument("--flip-shift", metavar="CONFIG",
                    help="a training config whose augment.flip_shift measured the labels' asymmetry, for a model "
                         "trained without flips on the same labels")
    args = ap.parse_args()
    _, _, info = read_model_file(args.model)
    model = load_model_file(args.model)
    shift = ((info.get("train_config") or {}).get("augment") or {}).get("flip_shift")
    if args.flip_shift:
        shift = load_train_config(args.flip_shift).augment.flip_shift
        if shift is None:
            raise SystemExit(f"{args.flip_shift}: no augment.flip_shift")
    if shift is not None and model.config.flip_shift is None:
        # trained without flips, or before the trainer copied augment.flip_shift into the model config
        model.config.flip_shift = tuple(float(v) for v in shift)
        model.config.check(args.model)
    val = load_dataset(args.val)
    pred, _ = predict_dataset(model, val)
    r = evaluate_landmarks(val, pred).overall
    epoch = info.get("epoch", (info.get("val") or {}).get("epoch"))  # a run's file, or a bundled one again
    metrics = {"data": args.val.split(":", 1)[1].replace("../shared/", "shared/"), "faces": r["n"],
               "nme_inter_ocular_pct": round(r["nme"], 3), "fr10_pct": round(r["fr"], 2), "auc10_pct": round(r["auc"], 2),
               "epoch": epoch, "box": model.config.box}
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    dest = WEIGHTS / f"{args.name}.safetensors"
    save_model(model, dest, {"name": args.name, "val": metrics,
                             "train_config": info.get("train_config", {})})
    reg = json.loads(REGISTRY.read_text()) if REGISTRY.is_file() else {"models": [], "aliases": {}}
    old = next((m for m in reg["models"] if m["name"] == args.name), None)
    description = args.description if args.description is not None else (old or {}).get("description", "")
    entry = {"name": args.name, "file": dest.name, "sha256": sha256_file(dest), "description": description,
             "metrics": metrics}
    if old is None:
        reg["models"].append(entry)
    else:  # keep its place; its ONNX file is stale now: tools/bundle_onnx.py writes it again
        reg["models"][reg["models"].index(old)] = entry
    if args.default:
        reg.setdefault("aliases", {})["default"] = args.name
    REGISTRY.write_text(json.dumps(reg, indent=2) + "\n")
    print(json.dumps({"name": args.name, "file": str(dest), "bytes": os.path.getsize(dest), **metrics}, indent=2))


if __name__ == "__main__":
    main()
