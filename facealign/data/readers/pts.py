"""iBUG ``.pts`` files and 300-W / 300-VW / Menpo folders of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.images import find_image_beside, require_regular_file
from facealign.data.sample import LandmarkSet, Sample, check_points, landmark_box
from facealign.errors import DataError
from facealign.schemes import Scheme, get_scheme, scheme_for_points

# 300-W split membership from folder names (lower case), as in the 300-W release.
W300_SPLITS = ("train", "common", "challenging", "full", "private", "indoor", "outdoor", "all")


def read_pts(path: str | Path) -> np.ndarray:
    """Read a ``.pts`` file; returns (K, 2) float32 in 0-based pixels (the files are 1-based).

    Raises:
        DataError: missing header, wrong ``n_points``, missing braces or malformed numbers.
    """
    p = Path(path)
    try:
        require_regular_file(p)
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise DataError(p, f"cannot read .pts file ({e.strerror})") from None
    n_declared = None
    start = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line.lower().startswith("n_points"):
            try:
                n_declared = int(line.split(":", 1)[1])
            except (IndexError, ValueError):
                raise DataError(p, f"malformed n_points line {raw!r}", i + 1) from None
        if line == "{":
            start = i + 1
            break
    if not lines:
        raise DataError(p, "empty .pts file")
    if start is None:
        raise DataError(p, "no opening '{' found")
    pts = []
    end = None
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if line == "}":
            end = i
            break
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            raise DataError(p, f"expected 'x y', got {line!r}", i + 1)
        try:
            pts.append((float(fields[0]), float(fields[1])))
        except ValueError:
            raise DataError(p, f"non-numeric coordinate in {line!r}", i + 1) from None
    if end is None:
        raise DataError(p, "no closing '}' found (truncated file?)")
    if n_declared is not None and n_declared != len(pts):
        raise DataError(p, f"header says n_points {n_declared} but {len(pts)} points follow")
    arr = check_points(np.array(pts, dtype=np.float64).reshape(-1, 2), None, str(p), path=p)
    return arr - 1.0


def write_pts(path: str | Path, points: np.ndarray) -> None:
    """Write (K, 2) 0-based points as a 1-based ``.pts`` file."""
    pts = np.asarray(points, dtype=np.float64) + 1.0
    body = "\n".join(f"{x:.3f} {y:.3f}" for x, y in pts)
    Path(path).write_text(f"version: 1\nn_points: {len(pts)}\n{{\n{body}\n}}\n", encoding="utf-8")


def _w300_subsets(rel: Path) -> tuple[str, ...]:
    parts = [q.lower() for q in rel.parts]
    name = rel.name.lower()
    subsets: list[str] = []
    if "ibug" in parts:
        subsets += ["challenging", "full"]
    elif ("lfpw" in parts or "helen" in parts) and "testset" in parts:
        subsets += ["common", "full"]
    elif "afw" in parts or "trainset" in parts:
        subsets += ["train"]
    if "01_indoor" in parts or name.startswith("indoor_"):
        subsets += ["private", "indoor"]
    elif "02_outdoor" in parts or name.startswith("outdoor_"):
        subsets += ["private", "outdoor"]
    return tuple(subsets)


def read_pts_folder(root: str | Path, scheme: Scheme | str | None = None, split: str = "all",
                    images: str | Path | None = None, authors_p2_box: bool = False) -> LandmarkSet:
    """Read every ``.pts`` under ``root`` (recursively) with its image.

    The image is the file with the same stem beside the ``.pts`` or, for the 300-VW layout
    (``annot/000001.pts``, ``imgs/000001.jpg``), in a sibling ``imgs`` folder, or in ``images``.
    Faces are tagged with the 300-W subsets from their folder names: ``train`` (afw, lfpw/helen
    trainset), ``common`` (lfpw/helen testset), ``challenging`` (ibug), ``full`` (common +
    challenging), ``private``/``indoor``/``outdoor`` (300-W private set, 01_Indoor/02_Outdoor).

    Args:
        root: Folder (or a single ``.pts`` file).
        scheme: Scheme; by default the built-in one with the files' point count.
        split: One of :data:`W300_SPLITS`; ``all`` keeps every face.
        authors_p2_box: Give each face the H3R authors' 300-W "P2" box as its data-set box (``box:
            dataset``): 300-W ships no boxes, and their test script takes the landmarks' tight box
            in the ``.pts`` file's own 1-based numbers, one pixel right of and below the P1 box.
    """
    root_p = Path(root)
    if split not in W300_SPLITS:
        raise DataError(root_p, f"unknown 300-W split {split!r}; choose from {list(W300_SPLITS)}")
    if root_p.is_file():
        files = [root_p]
        base = root_p.parent
    elif root_p.is_dir():
        files = sorted(root_p.rglob("*.pts"))
        base = root_p
    else:
        raise DataError(root_p, "no such file or folder")
    if not files:
        raise DataError(root_p, "no .pts files found in this folder")
    samples = []
    for f in files:
        pts = read_pts(f)
        rel = f.relative_to(base)
        img = None
        if images is not None:
            img = find_image_beside(Path(images) / rel.with_suffix(""))
        if img is None:
            img = find_image_beside(f)
        if img is None and f.parent.name.lower() == "annot":
            img = find_image_beside(f.parent.parent / "imgs" / f.stem)
        if img is None:
            raise DataError(f, "no image with the same name found beside it (or in ../imgs)")
        subsets = _w300_subsets(rel)
        box = landmark_box(pts + 1.0) if authors_p2_box else None
        samples.append(Sample(image=img, landmarks=pts, key=str(img.relative_to(base)) if base in img.parents else str(img),
                              source=str(f), subsets=subsets, box=box))
    k = samples[0].landmarks.shape[0]
    sch = get_scheme(scheme) if scheme is not None else scheme_for_points(k)
    for s in samples:
        check_points(s.landmarks, sch.num_points, s.source, path=s.source)
    if split != "all":
        samples = [s for s in samples if split in s.subsets]
    return LandmarkSet("300w", sch, samples, base)
