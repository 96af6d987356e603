"""ONNX Runtime session options for the landmark stage, measured: which ones pay.

Usage:
    python benchmarks/ort_options.py [--model default] [--reps 7]

Times the model's bundled fp32 and int8 ONNX files (``OnnxRunner.predict_crops``, decoding
included) on real YTF-68 val crops: a batch of 1 crop on one thread (a video frame, what
``FaceAligner`` runs for one or two faces) and a batch of 16 on ONNX Runtime's default pool
(a folder batch), under each option set: the defaults facealign uses (graph optimisation
``ORT_ENABLE_ALL``, memory arena and pattern on, spinning on), the basic and extended optimisation
levels, the arena off, memory patterns off, spinning off. Every cell is the best of ``--reps``
interleaved rounds; ms per crop.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def option_sets(ort) -> dict[str, dict]:
    g = ort.GraphOptimizationLevel
    return {"defaults (ORT_ENABLE_ALL, arena, memory pattern, spinning)": {},
            "graph optimisation ORT_ENABLE_EXTENDED": {"graph_optimization_level": g.ORT_ENABLE_EXTENDED},
            "graph optimisation ORT_ENABLE_BASIC": {"graph_optimization_level": g.ORT_ENABLE_BASIC},
            "CPU memory arena off": {"enable_cpu_mem_arena": False},
            "memory pattern off": {"enable_mem_pattern": False},
            "spinning off (session.intra_op.allow_spinning 0)": {"spin": False}}


def runner_with(path: Path, threads: int | None, options: dict):
    """An OnnxRunner of ``path`` whose session is built with ``options``."""
    import onnxruntime as ort

    from facealign.predict.runners import OnnxRunner

    runner = OnnxRunner(path, threads=threads)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    for k, v in options.items():
        if k == "spin":
            opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if v else "0")
        else:
            setattr(opts, k, v)
    runner.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return runner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()

    import onnxruntime as ort

    from facealign.data import load_dataset
    from facealign.data.crop import model_crops
    from facealign.zoo import resolve_onnx

    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    files = {"fp32": resolve_onnx(args.model), "int8": resolve_onnx(args.model, int8=True)}
    files = {k: v for k, v in files.items() if v is not None}
    runners = {(name, f, b): runner_with(p, 1 if b == 1 else None, opts)
               for name, opts in option_sets(ort).items() for f, p in files.items() for b in (1, 16)}
    crops = model_crops(val.samples[:64], next(iter(runners.values())).config, "landmarks")[0]
    best = {k: float("inf") for k in runners}
    for _ in range(args.reps):
        for (name, f, b), r in runners.items():
            t0 = time.perf_counter()
            for s in range(0, 64, b):
                r.predict_crops(crops[s:s + b])
            best[(name, f, b)] = min(best[(name, f, b)], (time.perf_counter() - t0) / 64)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f} at the end; model {args.model}; ms per crop, best of "
          f"{args.reps}\n")
    cols = [(f, b) for f in files for b in (1, 16)]
    print("| session options | " + " | ".join(f"{f}, batch {b}{' (1 thread)' if b == 1 else ' (pool)'}" for f, b in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name in option_sets(ort):
        print(f"| {name} | " + " | ".join(f"{best[(name, f, b)] * 1000:.2f}" for f, b in cols) + " |")


if __name__ == "__main__":
    main()
