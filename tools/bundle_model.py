"""Put a trained model into the package's model zoo (facealign/zoo/weights + models.json).

Usage:
    python tools/bundle_model.py RUN_DIR/best.safetensors --name ytf68-mnv2-128 [--default]
        [--description TEXT] [--val csv:../shared/data/ytf68/val/landmarks.csv]

Copies the weights (stripping the training-config blob from the metadata, keeping the model
config), evaluates them on the validation set, and records sha256 and the measured numbers in
the registry. With --default the name also becomes the alias "default".
"""

from __future__ import annotations

import argparse
import json
import os

from facealign.data import load_dataset
from facealign.evaluation import evaluate_landmarks
from facealign.models import read_model_file, save_model
from facealign.models.landmark_model import load_model_file
from facealign.predict import predict_dataset
from facealign.zoo import REGISTRY, WEIGHTS, sha256_file


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--name", required=True)
    ap.add_argument("--default", action="store_true")
    ap.add_argument("--description", default="")
    ap.add_argument("--val", default="csv:../shared/data/ytf68/val/landmarks.csv")
    args = ap.parse_args()
    _, _, info = read_model_file(args.model)
    model = load_model_file(args.model)
    val = load_dataset(args.val)
    pred, _ = predict_dataset(model, val)
    r = evaluate_landmarks(val, pred).overall
    metrics = {"data": args.val.split(":", 1)[1].replace("../shared/", "shared/"), "faces": r["n"],
               "nme_inter_ocular_pct": round(r["nme"], 3), "fr10_pct": round(r["fr"], 2), "auc10_pct": round(r["auc"], 2),
               "epoch": info.get("epoch"), "box": model.config.box}
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    dest = WEIGHTS / f"{args.name}.safetensors"
    save_model(model, dest, {"name": args.name, "val": metrics,
                             "train_config": info.get("train_config", {})})
    reg = json.loads(REGISTRY.read_text()) if REGISTRY.is_file() else {"models": [], "aliases": {}}
    reg["models"] = [m for m in reg["models"] if m["name"] != args.name]
    reg["models"].append({"name": args.name, "file": dest.name, "sha256": sha256_file(dest),
                          "description": args.description, "metrics": metrics})
    if args.default:
        reg.setdefault("aliases", {})["default"] = args.name
    REGISTRY.write_text(json.dumps(reg, indent=2) + "\n")
    print(json.dumps({"name": args.name, "file": str(dest), "bytes": os.path.getsize(dest), **metrics}, indent=2))


if __name__ == "__main__":
    main()
