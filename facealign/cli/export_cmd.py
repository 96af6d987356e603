"""``facealign export``: ONNX files for ONNX Runtime and other engines."""

from __future__ import annotations

import argparse

from facealign.cli.common import console


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a model to ONNX")
    p.add_argument("model", help="model name, .safetensors file or URL#sha256=...")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--out", required=True, help="output .onnx")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--decode", default="in-graph", choices=["in-graph", "none"],
                   help="in-graph: outputs landmarks (crop pixels) and scores; none: raw head output + metadata")
    p.add_argument("--flip", action="store_true", help="bake flip test-time averaging into the graph")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.export.onnx import export_onnx
    from facealign.models.landmark_model import load_model_file
    from facealign.zoo import resolve, sha256_file

    src = resolve(args.model)
    model = load_model_file(src)
    if args.flip:
        model.config.flip_test = True
    out = export_onnx(model, args.out, opset=args.opset, decode=args.decode, source_sha256=sha256_file(src))
    cfg = model.config
    console().print(f"wrote {out}: {cfg.backbone} {cfg.head} head, {cfg.input_size} px, scheme {model.scheme.name} "
                    f"({model.scheme.num_points} points), decode {args.decode}, dynamic batch; input 'image' uint8 "
                    f"(B, 3, {cfg.input_size}, {cfg.input_size}) RGB")
    return 0
