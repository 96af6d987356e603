"""``facealign crop``: aligned face crops (ArcFace template or FFHQ-style) of every face found."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from facealign.align.crop import MAX_CROP_SIZE, MIN_CROP_SIZE
from facealign.cli.common import add_aligner_args, aligner_options, at_least, progress_bar, say
from facealign.cli.outputs import (
    ImageOutputs,
    check_output_folder,
    check_replaceable,
    drop_own_outputs,
    is_facealign_json,
    is_facealign_png,
    plan_outputs,
)
from facealign.errors import DataError

CROPS_KEYS = {"image", "size", "template", "faces"}  # the layout of a crops JSON


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("crop", help="aligned face crops for recognition or data sets (one PNG per face)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder: <image>_face<i>.png per face and <image>_crops.json")
    p.add_argument("--size", type=at_least(MIN_CROP_SIZE, int, MAX_CROP_SIZE), default=112,
                   help=f"crop side in pixels, {MIN_CROP_SIZE}-{MAX_CROP_SIZE} (default 112, ArcFace's)")
    p.add_argument("--template", choices=["arcface", "ffhq"], default="arcface",
                   help="arcface: similarity to the ArcFace 5-point template; ffhq: the FFHQ data set's loose crop")
    p.add_argument("--padding", type=at_least(0.0, float), default=0.0,
                   help="arcface: extra margin per side, as a fraction of the crop (e.g. 0.25)")
    add_aligner_args(p)
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--skip-existing", action="store_true", help="skip images whose crops JSON already exists")
    p.add_argument("--overwrite", action="store_true", help="replace files at output paths facealign did not write")
    p.set_defaults(func=run)


def _paths(p: ImageOutputs, out: Path) -> tuple[Path, Path]:
    """(crops JSON, folder of the face PNGs) of one image."""
    return out / p.stem.with_name(p.stem.name + "_crops.json"), out / p.stem.parent


def _face_png(p: ImageOutputs, out: Path, i: int) -> Path:
    return out / p.stem.with_name(f"{p.stem.name}_face{i}.png")


def _face_pngs_in_place(p: ImageOutputs, out: Path) -> list[Path]:
    """Every existing ``<image>_face<i>.png`` of this image, whatever ``i`` (a run may write any)."""
    folder = out / p.stem.parent
    pat = re.compile(re.escape(p.stem.name) + r"_face\d+\.png")
    return sorted(f for f in folder.glob("*.png") if pat.fullmatch(f.name)) if folder.is_dir() else []


def _crops_of_last_run(js: Path) -> list[str]:
    """The crop file names a facealign crops JSON lists: the only files a re-run may remove."""
    if not is_facealign_json(js, CROPS_KEYS):
        return []
    faces = json.loads(js.read_text(encoding="utf-8")).get("faces")
    names = [f.get("crop") for f in faces if isinstance(f, dict)] if isinstance(faces, list) else []
    return [n for n in names if isinstance(n, str) and Path(n).name == n]


def run(args: argparse.Namespace) -> int:
    from facealign.align import align_faces
    from facealign.cli.inputs import collect
    from facealign.data.images import read_image
    from facealign.predict.draw import write_png
    from facealign.utils.io import atomic_write_text

    if args.padding > 2:
        raise DataError(Path(args.out), f"--padding must be at most 2, got {args.padding}")
    images, _ = collect(args.paths, args.recursive)
    out = Path(args.out)
    check_output_folder(out)
    images = drop_own_outputs(images, out)
    plan = plan_outputs(images)
    todo = [(im, p) for im, p in zip(images, plan) if not (args.skip_existing and _paths(p, out)[0].is_file())]
    existing = []
    for _, p in todo:
        js = _paths(p, out)[0]
        if js.exists():
            existing.append((js, is_facealign_json(js, CROPS_KEYS)))
        existing += [(f, is_facealign_png(f)) for f in _face_pngs_in_place(p, out)]
    check_replaceable(existing, args.overwrite)
    aligner = aligner_options(args).build()
    faces = failed = 0
    with progress_bar("cropping", len(todo)) as advance:
        for (path, rel), p in todo:
            try:
                image = read_image(path)
            except DataError as e:
                print(f"facealign: skipped: {e}", file=sys.stderr)
                failed += 1
                continue
            res = aligner.predict(image, sources=[str(path)])  # a boxes file finds faces by file name
            al = align_faces(image, res.landmarks, res.scheme, args.size, args.template, args.padding)
            earlier = _crops_of_last_run(_paths(p, out)[0])
            for i, crop in enumerate(al.crops):
                write_png(_face_png(p, out, i), crop)
            written = {_face_png(p, out, i).name for i in range(len(al))}
            for name in sorted(set(earlier) - written):  # a previous run found more faces: remove its crops only
                old = _paths(p, out)[1] / name
                if is_facealign_png(old):
                    old.unlink()
            record = {"image": str(rel), "size": args.size, "template": args.template, "padding": args.padding,
                      "faces": [{"crop": _face_png(p, out, i).name, "box": [round(float(v), 2) for v in res.boxes[i]],
                                 "matrix": [[round(float(v), 6) for v in row] for row in al.matrices[i]],
                                 "five_points": [[round(float(v), 3) for v in pt] for pt in al.five[i]]}
                                for i in range(len(al))]}
            atomic_write_text(_paths(p, out)[0], json.dumps(record) + "\n")  # last: it marks the image done
            faces += len(al)
            advance()
    say(f"{len(todo) - failed} images, {faces} faces cropped to {args.size} px ({args.template}) -> {out}"
        + (f"; {len(images) - len(todo)} skipped (done)" if len(images) > len(todo) else ""))
    return 0 if failed == 0 else 1
