"""``facealign data check`` and ``facealign data convert``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facealign.cli.common import add_data_args, console, load_data_from_args, progress_bar, say


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="check and convert data sets")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")

    c = dsub.add_parser("check", help="validate a data set and print a summary")
    c.add_argument("--format", help="data-set format (wflw, 300w, pts, cofw, lapa, csv, coco)")
    c.add_argument("--root", help="data-set root folder or annotation file")
    add_data_args(c, required=False)
    c.add_argument("--no-decode", action="store_true", help="only check that images exist (faster)")
    c.add_argument("--json", action="store_true", help="print the report as one JSON object")
    c.set_defaults(func=run_check)

    v = dsub.add_parser("convert", help="write a data set's landmarks as a landmark CSV (file,x0,y0,...)")
    add_data_args(v, required=True)
    v.add_argument("--out", required=True, help="output .csv")
    v.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    v.set_defaults(func=run_convert)

    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])


def run_check(args: argparse.Namespace) -> int:
    if args.data is None:
        if not (args.format and args.root):
            raise SystemExit("facealign data check: give --data FORMAT:PATH or --format F --root DIR")
        args.data = f"{args.format}:{args.root}"
    from facealign.data.check import check_dataset

    data = load_data_from_args(args)
    with progress_bar("checking", len(data), quiet=args.json) as advance:
        rep = check_dataset(data, decode=not args.no_decode, progress=advance)
    sizes = np.array(rep.image_sizes) if rep.image_sizes else np.zeros((0, 2))
    fs = np.array(rep.face_sizes)
    if args.json:
        print(json.dumps({
            "dataset": rep.name, "scheme": rep.scheme, "points": rep.num_points, "faces": rep.faces,
            "images": rep.images, "with_box": rep.with_box, "subsets": rep.subsets, "problems": rep.problems,
            "ok": rep.ok,
        }))
        return 0 if rep.ok else 1
    from rich.table import Table

    t = Table(title=f"data set {args.data}")
    t.add_column("item")
    t.add_column("value")
    t.add_row("read", rep.name)
    t.add_row("scheme", f"{rep.scheme} ({rep.num_points} points)")
    t.add_row("faces", str(rep.faces))
    t.add_row("images", str(rep.images))
    if len(sizes):
        t.add_row("image width (min/median/max)", f"{sizes[:, 0].min()} / {int(np.median(sizes[:, 0]))} / {sizes[:, 0].max()}")
        t.add_row("image height (min/median/max)", f"{sizes[:, 1].min()} / {int(np.median(sizes[:, 1]))} / {sizes[:, 1].max()}")
    if len(fs):
        t.add_row("face size px (min/median/max)", f"{fs.min():.0f} / {np.median(fs):.0f} / {fs.max():.0f}")
    t.add_row("faces with a data-set box", str(rep.with_box))
    for name, n in rep.subsets.items():
        t.add_row(f"subset {name}", str(n))
    t.add_row("problems", str(len(rep.problems)))
    console().print(t)
    for prob in rep.problems[:50]:
        say(f"problem {prob}")
    if len(rep.problems) > 50:
        say(f"... and {len(rep.problems) - 50} more")
    return 0 if rep.ok else 1


def run_convert(args: argparse.Namespace) -> int:
    from facealign.cli.outputs import check_output_file
    from facealign.data.readers.tabular import write_landmark_csv

    check_output_file(Path(args.out), args.overwrite)
    data = load_data_from_args(args)
    write_landmark_csv(args.out, [s.key for s in data.samples], data.landmarks())
    say(f"wrote {len(data)} faces to {args.out}")
    return 0
