"""Write the ONNX file of every bundled model, so that inference needs no export (and no torch).

Usage:
    python tools/bundle_onnx.py [--names ytf68-mnv2-128 ...]

For each registry entry whose weights are in facealign/zoo/weights: exports them with the same
settings the ONNX backend would use at run time (in-graph decoding, dynamic batch, metadata with
the weights' sha256) to weights/<name>.onnx and records onnx_file and onnx_sha256 in models.json.
Run it again whenever a bundled model changes; tests/test_zoo.py checks that each ONNX file
matches its weights.
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
    REGISTRY.write_text(json.dumps(reg, indent=2) + "\n")


if __name__ == "__main__":
    main()
