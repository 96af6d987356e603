"""``facealign export``: ONNX files for ONNX Runtime and other engines."""

from __future__ import annotations

import argparse
from pathlib import Path

from facealign.cli.common import at_least, say
from facealign.errors import FaceAlignError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a model to ONNX")
    p.add_argument("model", help="model name, .safetensors file or URL#sha256=...")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--out", required=True, help="output .onnx")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--opset", type=at_least(13), default=17)
    p.add_argument("--decode", default="in-graph", choices=["in-graph", "none"],
                   help="in-graph: outputs landmarks (crop pixels) and scores; none: raw head output + metadata")
    p.add_argument("--flip", action="store_true", help="bake flip test-time averaging into the graph")
    p.add_argument("--quantize", choices=["int8"],
                   help="int8 weights and activations (ONNX Runtime static quantization, calibrated on "
                        "--calibration faces); implies --decode none (decoded in numpy)")
    p.add_argument("--calibration", metavar="FORMAT:PATH", help="faces to calibrate int8 ranges on")
    p.add_argument("--calibration-images", help="image folder of --calibration")
    p.add_argument("--calibration-faces", type=at_least(1), default=256,
                   help="images drawn from --calibration; their faces are cut as inference frames them (detector, roll)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.cli.outputs import check_output_file
    from facealign.export.onnx import export_onnx
    from facealign.models.landmark_model import load_model_file
    from facealign.zoo import resolve, sha256_file

    check_output_file(Path(args.out), args.overwrite)
    if args.quantize and not args.calibration:
        raise FaceAlignError("--quantize int8 needs --calibration FORMAT:PATH (faces to calibrate on)")
    if args.calibration_faces < 1:
        raise FaceAlignError(f"--calibration-faces must be >= 1, got {args.calibration_faces}")
    src = resolve(args.model)
    model = load_model_file(src)
    if args.flip:
        model.config.flip_test = True
    cfg = model.config
    decode = "none" if args.quantize else args.decode
    if not args.quantize:
        out = export_onnx(model, args.out, opset=args.opset, decode=decode, source_sha256=sha256_file(src))
    else:
        from facealign.data import load_dataset
        from facealign.export.quantize import calibration_crops, export_onnx_int8

        calib = load_dataset(args.calibration, images=args.calibration_images)
        if calib.scheme.num_points != model.scheme.num_points:
            raise FaceAlignError(f"{args.calibration}: {calib.scheme.num_points}-point faces, the model has "
                                 f"{model.scheme.num_points} points")
        crops = calibration_crops(calib, cfg, args.calibration_faces)
        out = export_onnx_int8(model, args.out, crops, opset=args.opset, source_sha256=sha256_file(src))
    q = f", int8 (calibrated on {len(crops)} faces)" if args.quantize else ""
    say(f"wrote {out}: {cfg.backbone} {cfg.head} head, {cfg.input_size} px, scheme {model.scheme.name} "
                    f"({model.scheme.num_points} points), decode {decode}{q}, dynamic batch; input 'image' uint8 "
                    f"(B, 3, {cfg.input_size}, {cfg.input_size}) RGB")
    return 0
