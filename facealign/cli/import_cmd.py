"""``facealign import h3r FILE``: the authors' released checkpoints as facealign model files."""

from __future__ import annotations

import argparse
from pathlib import Path

from facealign.cli.common import at_least, say
from facealign.errors import FaceAlignError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="convert a released checkpoint (H3R model.pth, ACR .h5) to a facealign model file",
                       description="Convert a checkpoint you downloaded from the authors (docs/pretrained.md) "
                                   "into a .safetensors model that predict, evaluate and export take.")
    p.add_argument("kind", choices=["h3r", "acr"],
                   help="whose checkpoint: h3r (baoshengyu/H3R model.pth) or acr (aliprf/ACR-Loss .h5, MobileNetV2)")
    p.add_argument("file", help="the downloaded checkpoint")
    p.add_argument("--arch", choices=["mobilenetv2", "hrnet18", "hrnet32", "efficientnet_b0", "efficientnet_b3"],
                   help="default: read from the file")
    p.add_argument("--dataset", choices=["wflw", "300w", "lapa", "cofw"], help="default: from the number of points")
    p.add_argument("--size", type=at_least(32), help="input size (default: the released file's, else 256)")
    p.add_argument("--box", choices=["landmarks", "dataset"],
                   help="box type evaluate crops with: landmarks (P1) or dataset (P2); default from the file")
    p.add_argument("--out", required=True, help="output .safetensors (never overwritten)")
    p.add_argument("--name", help="also name the file on this machine, so that --model NAME finds it "
                                  "(kept in $FACEALIGN_CACHE/user_models.json, pinned by sha256)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.cli.outputs import check_writable_folder
    from facealign.convert import convert_acr, convert_h3r
    from facealign.models import save_model

    out = Path(args.out)
    if args.name:
        from facealign.zoo import check_user_name

        check_user_name(args.name, out)  # before the work, not after it
    if out.suffix != ".safetensors":
        raise FaceAlignError(f"{out}: the output must be a .safetensors file")
    if out.exists():
        raise FaceAlignError(f"{out}: exists already; choose another --out or remove it")
    check_writable_folder(out.parent)
    if args.kind == "h3r":
        model = convert_h3r(args.file, args.arch, args.dataset, args.size, args.box)
    else:
        if args.size or args.box:
            raise FaceAlignError("--size and --box apply to h3r files (ACR models are 224 px on landmark boxes)")
        model = convert_acr(args.file, args.arch, args.dataset)
    save_model(model, out, dict(model.info))
    cfg = model.config
    say(f"wrote {out}: {args.kind.upper()} {cfg.backbone}, {cfg.get_scheme().num_points} points ({cfg.get_scheme().name}), "
        f"{cfg.input_size} px input; the weights keep the authors' terms ({model.info['licence']})")
    from facealign.zoo.released import released_of, store_conversion

    entry = released_of(model)
    if entry is not None:  # the authors' own file, downloaded by hand: its released name works from now on
        store_conversion(entry, model)
        say(f"it is the authors' {entry.repo_path}: --model {entry.name} works on this machine now too")
    if args.name:
        from facealign.zoo import register_user_model, user_registry

        register_user_model(args.name, out, f"{args.kind.upper()} {cfg.backbone} {cfg.get_scheme().name}, "
                                             f"imported from {Path(args.file).name}")
        say(f"named it {args.name!r} on this machine ({user_registry()}): --model {args.name}")
    return 0
