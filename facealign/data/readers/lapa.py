"""LaPa ``{train,val,test}/{images,landmarks}`` layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.images import find_image_beside, require_regular_file
from facealign.data.sample import LandmarkSet, Sample, check_points
from facealign.errors import DataError
from facealign.schemes import LAPA_106


def read_lapa_landmarks(path: Path, num_points: int = 106) -> np.ndarray:
    """A LaPa landmark file: first line the count, then ``x y`` per line (0-based floats)."""
    try:
        require_regular_file(path)
        lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError as e:
        raise DataError(path, f"cannot read landmark file ({e.strerror})") from None
    if not lines:
        raise DataError(path, "empty landmark file")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise DataError(path, f"first line must be the point count, got {lines[0].strip()!r}", 1) from None
    if count != num_points:
        raise DataError(path, f"count line says {count} points; LaPa has {num_points}", 1)
    if len(lines) - 1 != count:
        raise DataError(path, f"count line says {count} points but {len(lines) - 1} follow")
    pts = []
    for i, ln in enumerate(lines[1:], 2):
        f = ln.split()
        if len(f) != 2:
            raise DataError(path, f"expected 'x y', got {ln.strip()!r}", i)
        try:
            pts.append((float(f[0]), float(f[1])))
        except ValueError:
            raise DataError(path, f"non-numeric coordinate in {ln.strip()!r}", i) from None
    return check_points(np.array(pts), num_points, str(path), path=path)


def read_lapa(root: str | Path, split: str = "test") -> LandmarkSet:
    """Read LaPa ``root/<split>/landmarks/*.txt`` with images from ``root/<split>/images``.

    ``root`` may also be the split folder itself.
    """
    r = Path(root)
    split_dir = r / split if (r / split / "landmarks").is_dir() else r
    lm_dir, img_dir = split_dir / "landmarks", split_dir / "images"
    if not lm_dir.is_dir():
        raise DataError(r, f"no landmarks/ folder for split {split!r} (expected {r}/{split}/landmarks)")
    files = sorted(lm_dir.glob("*.txt"))
    if not files:
        raise DataError(lm_dir, "no landmark .txt files")
    samples = []
    for f in files:
        pts = read_lapa_landmarks(f)
        img = find_image_beside(img_dir / f.stem)
        if img is None:
            raise DataError(f, f"no image {f.stem}.jpg/.png in {img_dir}")
        samples.append(Sample(image=img, landmarks=pts, key=img.name, source=str(f), subsets=("full",)))
    return LandmarkSet("lapa", LAPA_106, samples, split_dir)
