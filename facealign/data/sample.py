"""The one record every reader produces, and the collection of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facealign.errors import DataError
from facealign.schemes import Scheme

# Pixel convention, used by every reader, crop, codec and metric in facealign: coordinates are
# 0-based pixel indices with the CENTRE of pixel (i, j) at (x=j, y=i). A 300-W .pts value of 1.0
# is therefore 0.0 here, and a horizontal mirror maps x to width - 1 - x.
PIXEL_CONVENTION = "0-based, pixel centre at integer coordinates"


@dataclass
class Sample:
    """One annotated face.

    Attributes:
        image: Path of the image file, or an (H, W, 3) RGB uint8 array for formats that embed
            images (COFW .mat).
        landmarks: (K, 2) float32 (x, y), see :data:`PIXEL_CONVENTION`.
        key: Identifier of the image (path relative to the data-set root) used to match
            predictions to faces; several faces of one image share a key.
        source: ``file:line`` (or ``file[index]``) of the annotation, for error messages.
        box: (4,) float32 face box (x1, y1, x2, y2) given with the data set, or None.
        visible: (K,) bool, False where the data set marks a point occluded; None if unknown.
        subsets: Names of the evaluation subsets this face belongs to (e.g. ``"pose"``).
        attributes: Other per-face flags from the annotation.
    """

    image: Path | np.ndarray
    landmarks: np.ndarray
    key: str
    source: str
    box: np.ndarray | None = None
    visible: np.ndarray | None = None
    subsets: tuple[str, ...] = ()
    attributes: dict[str, bool] = field(default_factory=dict)

    def load_image(self) -> np.ndarray:
        """The (H, W, 3) RGB uint8 image."""
        if isinstance(self.image, np.ndarray):
            return self.image
        from facealign.data.images import read_image

        return read_image(self.image)

    def landmark_box(self) -> np.ndarray:
        """(4,) float32 tight box of the landmarks (x1, y1, x2, y2): the "P1" box."""
        return landmark_box(self.landmarks)


def landmark_box(points: np.ndarray) -> np.ndarray:
    """Tight (x1, y1, x2, y2) box of (..., K, 2) points; returns (..., 4)."""
    lo = points.min(axis=-2)
    hi = points.max(axis=-2)
    return np.concatenate([lo, hi], axis=-1).astype(np.float32)


@dataclass
class LandmarkSet:
    """The faces of one data set (or split), all in one scheme."""

    name: str
    scheme: Scheme
    samples: list[Sample]
    root: Path | None = None

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __getitem__(self, i: int) -> Sample:
        return self.samples[i]

    def subset_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.samples:
            for name in s.subsets:
                seen.setdefault(name, None)
        return list(seen)

    def select(self, subsets: Sequence[str]) -> "LandmarkSet":
        """Faces that belong to any of ``subsets``."""
        wanted = set(subsets)
        return LandmarkSet(self.name, self.scheme, [s for s in self.samples if wanted & set(s.subsets)], self.root)

    def landmarks(self) -> np.ndarray:
        """(N, K, 2) float32 of all faces."""
        if not self.samples:
            return np.zeros((0, self.scheme.num_points, 2), np.float32)
        return np.stack([s.landmarks for s in self.samples])


def check_points(points: np.ndarray, num_points: int | None, source: str, line: int | None = None,
                 path: str | Path | None = None) -> np.ndarray:
    """Validate a (K, 2) landmark array: right count, finite. Returns it as float32."""
    pts = np.asarray(points, dtype=np.float64)
    where_path = path if path is not None else source
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise DataError(where_path, f"landmarks must be (K, 2), got shape {pts.shape}", line)
    if num_points is not None and pts.shape[0] != num_points:
        raise DataError(where_path, f"expected {num_points} points, found {pts.shape[0]}", line)
    with np.errstate(over="ignore"):
        pts32 = pts.astype(np.float32)  # 1e308 is finite in float64 and inf here: check what is used
    bad = ~np.isfinite(pts32).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "a finite number (NaN or inf)" if not np.isfinite(pts[i]).all() else "within the range of 32-bit floats"
        raise DataError(where_path, f"point {i} is not {what}", line)
    return pts32
