"""``facealign evaluate``: NME / FR / AUC of predictions (or a model) on a data set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from facealign.cli.common import add_data_args, at_least, console, load_data_from_args, say
from facealign.metrics import NORMALIZERS
from facealign.schemes.maps import SCHEME_MAPS, map_points


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score landmark predictions on a data set (NME, FR, AUC, CED)")
    add_data_args(p, required=True)
    p.add_argument("--predictions", action="append", default=[], metavar="CSV",
                   help="predictions in the landmark CSV layout (file,x0,y0,...); repeat to compare methods")
    p.add_argument("--model", action="append", default=[], metavar="MODEL",
                   help="model file (.safetensors) to run on the data set; repeat to compare")
    p.add_argument("--box", choices=["landmarks", "dataset"],
                   help="crop box: landmarks (P1) or the data set's boxes (P2); default: the model's training box")
    p.add_argument("--batch-size", type=at_least(1), default=64)
    p.add_argument("--flip", action="store_true", help="flip test-time augmentation (two passes per face)")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"],
                   help="engine that runs --model (auto: ONNX Runtime for .onnx files, else PyTorch)")
    p.add_argument("--normalizer", default="inter_ocular", choices=NORMALIZERS)
    p.add_argument("--threshold", type=at_least(1e-6, float), default=0.1, help="failure threshold and AUC limit (default 0.10)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("--plot", metavar="PNG", help="write the CED curve(s) to this PNG")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.metrics.evaluation import evaluate_landmarks, match_predictions

    if not args.predictions and not args.model:
        raise SystemExit("facealign evaluate: give --model MODEL or --predictions CSV")
    if not 0 < args.threshold <= 1:
        raise SystemExit("facealign evaluate: --threshold must be in (0, 1]")
    data = load_data_from_args(args)
    results = []
    for path in args.predictions:
        pred = match_predictions(data, path)
        results.append(evaluate_landmarks(data, pred, args.normalizer, args.threshold, name=Path(path).stem))
    for spec in args.model:
        pred = run_model(spec, data, args)
        results.append(evaluate_landmarks(data, pred, args.normalizer, args.threshold, name=Path(spec).stem))
    if args.plot:
        from facealign.metrics import plot_ced

        plot_ced({r.name: r.per_face for r in results}, args.plot, args.threshold)
    if args.json:
        obj = results[0].to_json()
        if len(results) > 1:
            obj["methods"] = [r.to_json() for r in results]
        print(json.dumps(obj))
        return 0
    print_results(results, data.name)
    if args.plot:
        say(f"CED plot written to {args.plot}")
    return 0


def run_model(spec: str, data, args: argparse.Namespace):
    from facealign.cli.common import progress_bar
    from facealign.errors import FaceAlignError

    backend = args.backend if args.backend != "auto" else _auto_backend(spec)
    if backend == "onnx":
        from facealign.predict.runners import onnx_runner

        model: Any = onnx_runner(spec)
    else:
        from facealign.zoo import load_model

        model = load_model(spec)
    mapped = model.scheme.name != data.scheme.name and (model.scheme.name, data.scheme.name) in SCHEME_MAPS
    if model.scheme.num_points != data.scheme.num_points and not mapped:
        raise FaceAlignError(f"{spec}: model predicts {model.scheme.num_points} points ({model.scheme.name}), "
                             f"but {args.data} has {data.scheme.num_points} ({data.scheme.name}), and no map between "
                             f"the two is declared (facealign.schemes.maps)")
    with progress_bar(f"evaluating {Path(spec).name}", len(data), quiet=args.json) as advance:
        step = lambda k: [advance() for _ in range(k)]  # noqa: E731
        from facealign.predict.on_dataset import predict_dataset

        pred = predict_dataset(model, data, box=args.box, batch_size=args.batch_size, progress=step,
                               flip=args.flip or None)[0]
    if mapped:  # e.g. a WFLW model scored on 68-point data through the declared 98 -> 68 map
        say(f"{spec}: {model.scheme.name} points mapped to {data.scheme.name} by the declared scheme map", stderr=True)
        return map_points(pred, model.scheme, data.scheme).astype(np.float32)
    return pred


def print_results(results, dataset: str) -> None:
    from rich.table import Table

    r0 = results[0]
    t = Table(title=f"{dataset}: NME ({r0.normalizer}), FR and AUC at {r0.threshold:g}")
    for col in ("method", "subset", "faces", "NME %", f"FR@{r0.threshold:g} %", f"AUC@{r0.threshold:g} %",
                "P50", "P90", "P95"):
        t.add_column(col, justify="right" if col not in ("method", "subset") else "left")
    for r in results:
        rows = [("all", r.overall)] + list(r.subsets.items())
        for name, s in rows:
            t.add_row(r.name, name, str(s["n"]), f"{s['nme']:.3f}", f"{s['fr']:.2f}", f"{s['auc']:.2f}",
                      f"{s['p50']:.2f}", f"{s['p90']:.2f}", f"{s['p95']:.2f}")
    console().print(t)


def _auto_backend(spec: str) -> str:
    """``onnx`` for .onnx files, and for models with an ONNX file when PyTorch is not installed (the
    two give the same numbers: docs/models.md); else ``torch``."""
    import importlib.util

    from facealign.zoo import resolve_onnx

    if str(spec).lower().endswith(".onnx"):
        return "onnx"
    if importlib.util.find_spec("torch") is None and resolve_onnx(spec) is not None:
        return "onnx"
    return "torch"
