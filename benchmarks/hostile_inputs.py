"""Peak memory and time of one CLI run per hostile input (docs/robustness.md).

Usage: python benchmarks/hostile_inputs.py [--model default]

Each input is made in a temporary folder and run through ``facealign`` in a child process whose
heap is limited to 3 GiB (RLIMIT_DATA); the child reports its peak resident memory. The goal of
issue 28: under 1 GB and 10 s for any input within the documented limits (80 megapixels, aspect
ratio 50), on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
LIMIT = 3 << 30
CHILD = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_DATA, ({LIMIT}, {LIMIT}))
from facealign.cli.main import main
rc = main(sys.argv[1:])
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
hwm = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(f"PEAK_RSS_MB {{hwm // 1024}}", file=sys.stderr)
sys.exit(rc)
"""


def png(t: Path, name: str, h: int, w: int) -> Path:
    p = t / name
    cv2.imwrite(str(p), np.zeros((h, w, 3), np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return p


def giant_backbone(t: Path) -> Path:
    from safetensors import safe_open
    from safetensors.torch import save_file

    from facealign.zoo import resolve

    with safe_open(str(resolve("default")), framework="pt") as f:
        meta = dict(f.metadata())
    cfg = json.loads(meta["config"])
    cfg["backbone"] = "vit_giant_patch14_224"
    meta["config"] = json.dumps(cfg)
    import torch

    save_file({"x": torch.zeros(1)}, str(t / "giant.safetensors"), metadata=meta)
    return t / "giant.safetensors"


def h5_8gib(t: Path) -> Path:
    import h5py

    with h5py.File(t / "acr.h5", "w") as f:
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"Conv1"]
        lg = g.create_group("Conv1")
        lg.attrs["weight_names"] = [b"k"]
        lg.create_dataset("k", shape=(1 << 31,), dtype="float32", chunks=(1 << 16,))
    return t / "acr.h5"


def alias_bomb(t: Path) -> Path:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (t / "bomb.yaml").write_text("\n".join(lines + ["epochs: *a8"]) + "\n")
    return t / "bomb.yaml"


CASES = {
    "10 x 60000 PNG (1.8 KB)": lambda t: ["predict", str(png(t, "thin.png", 10, 60000)), "--out", str(t / "o")],
    "600 x 29000 PNG, --rolled": lambda t: ["predict", str(png(t, "wide.png", 600, 29000)), "--out", str(t / "o"), "--rolled"],
    "8000 x 9999 PNG (80 MP, the limit)": lambda t: ["predict", str(png(t, "big.png", 8000, 9999)), "--out", str(t / "o")],
    "8000 x 9999 PNG, --rolled": lambda t: ["predict", str(t / "big.png"), "--out", str(t / "o2"), "--rolled"],
    "4 KB safetensors naming a 1 B-weight backbone": lambda t: ["export", str(giant_backbone(t)), "--out", str(t / "g.onnx")],
    "ACR .h5 declaring 8 GiB": lambda t: ["import", "acr", str(h5_8gib(t)), "--out", str(t / "a.safetensors")],
    "1 KB YAML alias bomb": lambda t: ["train", str(alias_bomb(t))],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    print("| input | exit | peak RSS MB | wall s | answer |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for name, make in CASES.items():
            argv = make(t)
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", CHILD, *argv], env=env, capture_output=True, text=True, timeout=600)
            wall = time.perf_counter() - t0
            text = res.stderr + res.stdout
            peak = re.search(r"PEAK_RSS_MB (\d+)", text)
            answer = next((ln for ln in text.splitlines() if "error" in ln or "skipped" in ln), "landmarks written")
            answer = re.sub(r"/tmp/\S+/", "", answer)[:110]
            print(f"| {name} | {res.returncode} | {peak.group(1) if peak else '?'} | {wall:.1f} | {answer} |")


if __name__ == "__main__":
    main()
