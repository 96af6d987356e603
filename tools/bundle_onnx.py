"""Write the ONNX file of every bundled model, so that inference needs no export (and no torch).

Usage:
    python tools/bundle_onnx.py [--names ytf68-mnv2-128 ...] [--int8 NAME ...]

For each registry entry whose weights are in facealign/zoo/weights: exports them with the same
settings the ONNX backend would use at run time (in-graph decoding, dynamic batch, metadata with
the weights' sha256) to weights/<name>.onnx and records onnx_file and onnx_sha256 in models.json.
Run it again whenever a bundled model changes; tests/test_zoo.py checks that each ONNX file
matches its weights. ``--int8 NAME``: also write weights/<NAME>.int8.onnx, quantized and calibrated
on the faces YuNet finds in 512 YTF-68 *train* frames (seed 0), cut as inference cuts them
(export/quantize.py), recorded as onnx_int8_file / onnx_int8_sha256: the file
``precision="auto"`` runs on CPUs with int8 dot products (docs/speed.md).
"""

from __future__ import annotations

import argparse
import json

from facealign.export.onnx import export_onnx
from facealign.models.landmark_model import load_model_file
from facealign.zoo import REGISTRY, WEIGHTS, sha256_file


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", nargs="*", help="registry names (default: every bundled model)")
    ap.add_argument("--int8", nargs="*", default=[], metavar="NAME", help="also write the int8 file of these models")
    args = ap.parse_args()
    reg = json.loads(REGISTRY.read_text())
    for entry in reg["models"]:
        if not entry.get("file") or (args.names and entry["name"] not in args.names):
            continue
        weights = WEIGHTS / entry["file"]
        out = WEIGHTS / f"{entry['name']}.onnx"
        export_onnx(load_model_file(weights), out, source_sha256=sha256_file(weights))
        entry["onnx_file"], entry["onnx_sha256"] = out.name, sha256_file(out)
        print(f"{entry['name']}: {out} ({out.stat().st_size / 1e6:.1f} MB)")
        if entry["name"] in args.int8:
            int8 = _write_int8(weights, WEIGHTS / f"{entry['name']}.int8.onnx")
            entry["onnx_int8_file"], entry["onnx_int8_sha256"] = int8.name, sha256_file(int8)
            print(f"{entry['name']}: {int8} ({int8.stat().st_size / 1e6:.1f} MB, int8)")
    REGISTRY.write_text(json.dumps(reg, indent=2) + "\n")


def _write_int8(weights, out):
    import os
    from pathlib import Path

    from facealign.data import load_dataset
    from facealign.export.quantize import calibration_crops, export_onnx_int8

    shared = Path(os.environ.get("FACEALIGN_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    train = load_dataset(f"csv:{shared / 'data' / 'ytf68' / 'train' / 'landmarks.csv'}")
    model = load_model_file(weights)
    return export_onnx_int8(model, out, calibration_crops(train, model.config, 512), source_sha256=sha256_file(weights))


if __name__ == "__main__":
    main()
