"""Validation of a whole data set: every image readable, every annotation plausible."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facealign.data.images import read_image, require_regular_file
from facealign.data.sample import LandmarkSet
from facealign.errors import DataError


@dataclass
class CheckReport:
    """What :func:`check_dataset` found."""

    name: str
    scheme: str
    num_points: int
    faces: int = 0
    images: int = 0
    image_sizes: list[tuple[int, int]] = field(default_factory=list)
    with_box: int = 0
    face_sizes: list[float] = field(default_factory=list)
    subsets: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_dataset(data: LandmarkSet, decode: bool = True, progress=None) -> CheckReport:
    """Check every face of ``data``: the image decodes, landmarks and box lie in the image, the
    box has a positive size. Problems are collected (each names its annotation), not raised.

    Args:
        decode: Decode each image (slower, finds truncated files); otherwise only check it exists.
        progress: Optional callable advanced once per face.
    """
    rep = CheckReport(data.name, data.scheme.name, data.scheme.num_points, faces=len(data))
    sizes: dict[str, tuple[int, int] | None] = {}
    for s in data.samples:
        key = s.key if not isinstance(s.image, np.ndarray) else s.source
        if key not in sizes:
            try:
                if isinstance(s.image, np.ndarray):
                    hw = s.image.shape[:2]
                elif decode:
                    hw = read_image(s.image).shape[:2]
                else:
                    if not s.image.is_file():
                        raise DataError(s.image, "image file not found")
                    hw = None
                sizes[key] = hw
                if hw is not None:
                    rep.image_sizes.append((int(hw[1]), int(hw[0])))
            except DataError as e:
                sizes[key] = None
                rep.problems.append(f"{s.source}: {e}")
        hw = sizes[key]
        pts = s.landmarks
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        rep.face_sizes.append(float(max(hi - lo)))
        problem = degenerate_face(s.landmarks)
        if problem:
            rep.problems.append(f"{s.source}: {problem}")
        if hw is not None:
            h, w = hw
            outside = int(((pts[:, 0] < -0.5) | (pts[:, 1] < -0.5) | (pts[:, 0] > w - 0.5) | (pts[:, 1] > h - 0.5)).sum())
            if outside:
                rep.problems.append(f"{s.source}: {outside} landmark(s) outside the {w}x{h} image")
        if s.box is not None:
            rep.with_box += 1
            x1, y1, x2, y2 = (float(v) for v in s.box)
            if not (x2 > x1 and y2 > y1):
                rep.problems.append(f"{s.source}: box {s.box.tolist()} has zero or negative size")
            elif hw is not None and (x2 < 0 or y2 < 0 or x1 > hw[1] or y1 > hw[0]):
                rep.problems.append(f"{s.source}: box {s.box.tolist()} lies entirely outside the image")
        for sub in s.subsets:
            rep.subsets[sub] = rep.subsets.get(sub, 0) + 1
        if progress is not None:
            progress()
    rep.images = len(sizes)
    return rep


# A face whose landmarks all lie within this many pixels has no shape to learn (a crop of it is a
# division by zero); real faces in the benchmarks are 20 px and more.
MIN_FACE_SIDE = 2.0


def degenerate_face(points: np.ndarray) -> str | None:
    """Why a (K, 2) annotation cannot be trained on, or None."""
    side = float(np.max(points.max(axis=0) - points.min(axis=0)))
    if not side >= MIN_FACE_SIDE:
        return f"the {len(points)} landmarks span {side:g} px (all at one place): not a face annotation"
    return None


def training_problems(data: LandmarkSet) -> list[str]:
    """Faces that would train silently wrong or crash training: degenerate annotations, and faces
    whose landmarks lie farther outside their image than the face is large (image size from the
    file header, not decoded). Each problem names its annotation."""
    problems, sizes = [], {}
    for s in data.samples:
        why = degenerate_face(s.landmarks)
        if why:
            problems.append(f"{s.source}: {why}")
            continue
        if isinstance(s.image, np.ndarray):
            h, w = s.image.shape[:2]
        else:
            if s.image not in sizes:
                sizes[s.image] = _header_size(s.image)
            size = sizes[s.image]
            if size is None:  # unreadable images are the loader's to report, by name
                continue
            w, h = size
        lo, hi = s.landmarks.min(axis=0), s.landmarks.max(axis=0)
        side = float(max(hi - lo))
        if lo[0] > w + side or lo[1] > h + side or hi[0] < -side or hi[1] < -side:
            problems.append(f"{s.source}: the landmarks ({lo[0]:.0f}, {lo[1]:.0f})-({hi[0]:.0f}, {hi[1]:.0f}) lie outside "
                            f"the {w}x{h} image")
    return problems


def _header_size(path) -> tuple[int, int] | None:
    """(width, height) from the image file's header (Pillow reads no pixels), or None."""
    from PIL import Image

    try:
        require_regular_file(path)
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
