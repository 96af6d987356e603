"""``facealign pca``: the shape model behind the ACR loss's Smooth-Faces."""

from __future__ import annotations

import argparse
from pathlib import Path

from facealign.cli.common import add_data_args, at_least, console, load_data_from_args, say
from facealign.constants import ACR_VARIANCES, AUTHORS_PCA_DRAWS, CROP_SCALE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pca", help="fit the PCA shape model (Smooth-Face) of a training set")
    add_data_args(p, required=True)
    p.add_argument("--variance", type=float, nargs="+", default=list(ACR_VARIANCES),
                   help=f"variance percentages to report/keep (default {' '.join(f'{v:g}' for v in ACR_VARIANCES)})")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--size", type=at_least(16), default=128, help="crop size the shapes are normalised in")
    p.add_argument("--scale", type=at_least(0.5, float), default=CROP_SCALE, help=f"crop box enlargement (default {CROP_SCALE})")
    p.add_argument("--box", default="landmarks", choices=["landmarks", "dataset"])
    p.add_argument("--no-flips", action="store_true", help="do not add mirrored shapes (nor mirror augmented copies)")
    p.add_argument("--draws", type=at_least(0), default=AUTHORS_PCA_DRAWS,
                   help=f"augmented copies per face (training's default geometric augmentation: rotation, "
                        f"scale, shift, flips); default {AUTHORS_PCA_DRAWS}, as the ACR authors; 0: the faces as they are")
    p.add_argument("--seed", type=at_least(0), default=0, help="seed of the augmented copies (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from facealign.cli.outputs import check_output_file
    from facealign.data.augment import AugmentConfig
    from facealign.models.config import ModelConfig
    from facealign.shape import fit_shape_pca, training_shapes

    check_output_file(Path(args.out), args.overwrite)
    data = load_data_from_args(args)
    spec = ModelConfig(input_size=args.size, crop_scale=args.scale, box=args.box)
    augment = AugmentConfig(flip=0.0) if args.no_flips else AugmentConfig()
    shapes = training_shapes(data, spec, not args.no_flips, augment, args.draws, args.seed)
    pca = fit_shape_pca(shapes)
    pca.save(args.out, tuple(args.variance), {"data": args.data, "size": args.size, "scale": args.scale,
                                               "box": args.box, "flips": not args.no_flips, "draws": args.draws,
                                               "seed": args.seed, "shapes": len(shapes)})
    t = Table(title=f"shape PCA of {len(shapes)} shapes ({data.scheme.num_points} points)")
    t.add_column("variance kept %", justify="right")
    t.add_column("components", justify="right")
    for v in args.variance:
        t.add_row(f"{v:g}", str(pca.n_components(v)))
    console().print(t)
    say(f"wrote {args.out}")
    return 0
