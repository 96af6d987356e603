"""``FORMAT:PATH`` data-set specifications, as the command line takes them."""

from __future__ import annotations

from pathlib import Path

from facealign.data.readers.cofw import read_cofw
from facealign.data.readers.lapa import read_lapa
from facealign.data.readers.pts import read_pts_folder
from facealign.data.readers.tabular import read_coco, read_csv_dataset
from facealign.data.readers.wflw import read_wflw
from facealign.data.sample import LandmarkSet
from facealign.errors import DataError
from facealign.schemes import Scheme, get_scheme

FORMATS = ("wflw", "300w", "pts", "cofw", "lapa", "csv", "coco")


def load_dataset(spec: str, split: str | None = None, images: str | Path | None = None,
                 scheme: Scheme | str | None = None) -> LandmarkSet:
    """Load a data set from ``FORMAT:PATH``.

    Formats: ``wflw`` (annotation file or WFLW root), ``300w``/``pts`` (folder of ``.pts``
    files), ``cofw`` (.mat), ``lapa`` (LaPa root), ``csv`` (landmark CSV), ``coco`` (keypoint
    JSON).

    Args:
        spec: ``FORMAT:PATH``, e.g. ``csv:../shared/data/ytf68/val/landmarks.csv``.
        split: Split where the format has them (WFLW train/test, 300-W train/common/
            challenging/full/private, LaPa train/val/test, COFW train/test).
        images: Image folder overriding the format's default location.
        scheme: Scheme override (name or file) for formats that do not imply one.
    """
    fmt, sep, path = spec.partition(":")
    fmt = fmt.lower()
    if not sep or not path:
        raise DataError(spec, f"data set must be given as FORMAT:PATH with FORMAT one of {list(FORMATS)}")
    if fmt not in FORMATS:
        raise DataError(spec, f"unknown data-set format {fmt!r}; choose one of {list(FORMATS)}")
    p = Path(path)
    if not p.exists():
        raise DataError(p, "no such file or folder")
    if fmt == "wflw":
        ds = read_wflw(p, split=split or "test", images=images)
    elif fmt in ("300w", "pts"):
        ds = read_pts_folder(p, scheme=scheme, split=split or "all", images=images, authors_p2_box=fmt == "300w")
    elif fmt == "cofw":
        ds = read_cofw(p, split=split)
    elif fmt == "lapa":
        ds = read_lapa(p, split=split or "test")
    elif fmt == "csv":
        ds = read_csv_dataset(p, images=images, scheme=scheme)
    else:
        ds = read_coco(p, images=images, scheme=scheme)
    if scheme is not None and fmt in ("wflw", "cofw", "lapa"):
        sch = get_scheme(scheme)
        if sch.num_points != ds.scheme.num_points:
            raise DataError(p, f"{fmt} data have {ds.scheme.num_points} points; scheme {sch.name!r} has {sch.num_points}")
        ds.scheme = sch
    return ds
