"""WFLW ``list_98pt_rect_attr_{train,test}.txt`` annotation files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.images import require_regular_file, resolve_in_root
from facealign.data.sample import LandmarkSet, Sample, check_points
from facealign.errors import DataError
from facealign.schemes import WFLW_98

WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")
_FIELDS = 98 * 2 + 4 + 6 + 1


def find_wflw_annotation(root: Path, split: str) -> Path:
    """The annotation file of ``split`` (train/test) under a WFLW root or its annotations folder."""
    name = f"list_98pt_rect_attr_{split}.txt"
    for cand in (root / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / name,
                 root / "list_98pt_rect_attr_train_test" / name, root / name):
        if cand.is_file():
            return cand
    raise DataError(root, f"no {name} found (expected WFLW_annotations/list_98pt_rect_attr_train_test/{name})")


def read_wflw(path: str | Path, split: str = "test", images: str | Path | None = None) -> LandmarkSet:
    """Read a WFLW annotation file (or find it under a WFLW root folder).

    Each line: 196 coordinates, the face rectangle (x_min y_min x_max y_max, the "P2" box), six
    0/1 flags (pose, expression, illumination, make-up, occlusion, blur) and the image path
    relative to ``WFLW_images/``. Flags become subsets; every face is also in ``full``.
    """
    p = Path(path)
    if p.is_dir():
        p = find_wflw_annotation(p, split)
    if not p.is_file():
        raise DataError(p, "annotation file not found")
    if images is not None:
        img_root = Path(images)
    else:
        img_root = next((a / "WFLW_images" for a in p.parents if (a / "WFLW_images").is_dir()), p.parent)
    samples = []
    require_regular_file(p)
    with open(p, encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, 1):
            fields = raw.split()
            if not fields:
                continue
            if len(fields) != _FIELDS:
                raise DataError(p, f"expected {_FIELDS} fields (196 coordinates, 4 box, 6 flags, path), "
                                   f"found {len(fields)}", lineno)
            try:
                nums = np.array([float(v) for v in fields[:206]])
            except ValueError as e:
                raise DataError(p, f"non-numeric field ({e})", lineno) from None
            pts = check_points(nums[:196].reshape(98, 2), 98, str(p), lineno, path=p)
            with np.errstate(over="ignore"):
                box = nums[196:200].astype(np.float32)
            if not np.isfinite(box).all() or box[2] <= box[0] or box[3] <= box[1]:
                raise DataError(p, f"face box {box.tolist()} has zero or negative size", lineno)
            flags = nums[200:206]
            if not np.isin(flags, (0, 1)).all():
                raise DataError(p, f"attribute flags must be 0 or 1, got {flags.tolist()}", lineno)
            attrs = {name: bool(v) for name, v in zip(WFLW_ATTRIBUTES, flags)}
            rel = fields[206]
            samples.append(Sample(
                image=resolve_in_root(img_root, rel, p, lineno), landmarks=pts, key=rel, source=f"{p}:{lineno}",
                box=box, subsets=("full",) + tuple(a for a in WFLW_ATTRIBUTES if attrs[a]), attributes=attrs,
            ))
    if not samples:
        raise DataError(p, "annotation file has no faces")
    return LandmarkSet("wflw", WFLW_98, samples, img_root)
