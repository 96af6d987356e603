"""Face detectors that run offline after ``pip install``: OpenCV's bundled Haar cascade, dlib's
HOG detector (optional extra ``dlib-bin``), the whole image, and boxes given by the user."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

from facealign.detect.base import Detections
from facealign.detect.policy import SearchPolicy, finest_scale, resize_by
from facealign.errors import ConfigError, DataError, FaceAlignError


def _shrink(image: np.ndarray, policy: SearchPolicy, native_min: float) -> tuple[np.ndarray, float]:
    """The image reduced as far as the policy allows (never enlarged): the scale that brings the
    smallest face searched to the detector's window, capped by the policy's pixel budget."""
    h, w = image.shape[:2]
    f = min(1.0, finest_scale(h, w, policy, native_min))
    return resize_by(image, f), f


# Images smaller than this are searched coarse to fine: faces of COARSE_FACE px and more first,
# smaller ones only when none was found (see DlibHOGDetector).
COARSE_MAX_SIDE = 400
COARSE_FACE = 80


class CascadeDetector:
    """OpenCV's frontal-face Haar cascade (``haarcascade_frontalface_default.xml``, shipped with
    opencv-python-headless 4.x). Scores are the cascade's level weights.

    ``coarse_to_fine`` (default): in images under 400 px, look for faces of 80 px and more first
    and down to ``min_size`` only when none was found (2.2x faster on YTF-68 val for 0.4 % of its
    faces, docs/detection.md; extra small faces beside a found large one are not searched for).
    ``policy``: face sizes in original pixels; the image is reduced until its smallest face fits
    the cascade's 24 px window (within the policy's pixel budget), never enlarged.
    """

    name = "cascade"
    native_min = 24.0

    def __init__(self, min_size: int = 20, scale_factor: float = 1.1, min_neighbors: int = 4,
                 cascade_file: str | Path | None = None, coarse_to_fine: bool = True, policy: SearchPolicy | None = None):
        default = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        path = Path(cascade_file) if cascade_file else default
        if not path.is_file():
            raise FaceAlignError(f"{path}: OpenCV's face cascade is not installed (OpenCV 5 wheels no longer ship "
                                 "it); install opencv-python-headless<5 or pass cascade_file")
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise FaceAlignError(f"{path}: not a valid OpenCV cascade")
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors
        self.coarse_to_fine = coarse_to_fine
        self.policy = policy or SearchPolicy(min_face=min_size)

    def _run(self, grey: np.ndarray, min_size: int):
        rects, _, weights = self._cascade.detectMultiScale3(grey, self.scale_factor, self.min_neighbors,
                                                            minSize=(min_size, min_size), outputRejectLevels=True)
        return rects, weights

    def detect(self, image: np.ndarray) -> Detections:
        small, f = _shrink(image, self.policy, self.native_min)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        ms = max(8, int(self.policy.min_face * f))
        rects, weights = [], []
        if self.coarse_to_fine and max(grey.shape) < COARSE_MAX_SIDE and ms < COARSE_FACE:
            rects, weights = self._run(grey, COARSE_FACE)
        if len(rects) == 0:
            rects, weights = self._run(grey, ms)
        if len(rects) == 0:
            return Detections.empty(ms / f)
        r = np.asarray(rects, np.float32) / f
        boxes = np.stack([r[:, 0], r[:, 1], r[:, 0] + r[:, 2], r[:, 1] + r[:, 3]], axis=1)
        return Detections(boxes, np.asarray(weights, np.float32).reshape(-1), min_face_searched=ms / f).sorted()


class DlibHOGDetector:
    """dlib's HOG + linear SVM frontal face detector (``pip install facealign[dlib]``).

    dlib's window is 80 px, so faces smaller than that are only found on an image up-sampled 2x
    (4x the pixels to search). ``upsample``: ``None`` (default) searches images under 400 px
    coarse to fine: the plain image first, the up-sampled one only when the plain pass finds no
    face. On YTF-68 val that is 2.7x faster and finds 97.8 % of the faces instead of 96.6 %
    (docs/detection.md); the price is that in a small image where a face of 80 px or more was
    found, extra faces under 80 px are not searched for: pass ``upsample=1`` to always search
    them. An int always up-samples that many times, as ``dlib`` does.

    ``threshold`` 0.1 (dlib's own default is 0): on 300 YTF-68 val images 0.7 % of true faces
    scored below 0.1, while every false detection seen scored below 0.07 (docs/detection.md).

    ``policy``: face sizes in original pixels; the image is reduced until its smallest face fits
    the 80 px window (within the policy's pixel budget), never enlarged except by ``upsample``.
    """

    name = "dlib"
    native_min = 80.0

    def __init__(self, upsample: int | None = None, threshold: float = 0.1, policy: SearchPolicy | None = None):
        try:
            import dlib
        except ImportError:
            raise FaceAlignError("the dlib detector needs the dlib-bin package: pip install 'facealign[dlib]'") from None
        if upsample is not None and (isinstance(upsample, bool) or not isinstance(upsample, int) or upsample < 0):
            raise ConfigError(f"upsample must be None or an int >= 0, got {upsample!r}")
        self._det = dlib.get_frontal_face_detector()
        self.upsample, self.threshold = upsample, threshold
        self.policy = policy or SearchPolicy()

    def _run(self, image: np.ndarray, up: int):
        return self._det.run(image, up, self.threshold)[:2]

    def detect(self, image: np.ndarray) -> Detections:
        small, f = _shrink(image, self.policy, self.native_min)
        small = np.ascontiguousarray(small)
        up = self.upsample or 0
        if self.upsample is not None:
            rects, scores = self._run(small, self.upsample)
        else:
            rects, scores = self._run(small, 0)
            if not rects and max(small.shape[:2]) < COARSE_MAX_SIDE:
                up = 1
                rects, scores = self._run(small, 1)
        smallest = self.native_min / (f * 2**up)
        if not rects:
            return Detections.empty(smallest)
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects], np.float32) / f
        return Detections(boxes, np.asarray(scores, np.float32), min_face_searched=smallest).sorted()


class FullImageDetector:
    """The image is the face (pre-cropped faces)."""

    name = "full"

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        return Detections(np.array([[0, 0, w - 1, h - 1]], np.float32), np.ones(1, np.float32))


class BoxesDetector:
    """Boxes given by the user, per image file name.

    Files: JSON ``{"image.jpg": [[x1, y1, x2, y2], ...], ...}`` or CSV with header
    ``file,x1,y1,x2,y2`` (one box a row). Use :meth:`boxes_for` with the image's name.
    """

    name = "boxes"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.table = read_boxes_file(self.path)

    def boxes_for(self, key: str) -> Detections:
        for k in (key, Path(key).name):
            if k in self.table:
                b = self.table[k]
                return Detections(b, np.ones(len(b), np.float32))
        return Detections.empty()

    def detect(self, image: np.ndarray) -> Detections:
        raise FaceAlignError(f"{self.path}: user boxes are looked up by image name, not detected")


def read_boxes_file(path: Path) -> dict[str, np.ndarray]:
    """Parse a boxes file (see :class:`BoxesDetector`); errors name the file and entry."""
    if not path.is_file():
        raise DataError(path, "boxes file not found")
    table: dict[str, list] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DataError(path, f"invalid JSON ({e.msg})", e.lineno) from None
        if not isinstance(data, dict):
            raise DataError(path, "expected an object mapping image names to lists of [x1, y1, x2, y2]")
        for key, boxes in data.items():
            if not isinstance(boxes, list) or (boxes and not isinstance(boxes[0], list)):
                boxes = [boxes]
            for b in boxes:
                table.setdefault(key, []).append(_check_box(b, path, f"entry {key!r}"))
    else:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if header != ["file", "x1", "y1", "x2", "y2"]:
                raise DataError(path, "boxes CSV header must be file,x1,y1,x2,y2", 1)
            for row in reader:
                if not row:
                    continue
                if len(row) != 5:
                    raise DataError(path, f"expected 5 columns, found {len(row)}", reader.line_num)
                table.setdefault(row[0], []).append(_check_box(row[1:], path, f"line {reader.line_num}"))
    return {k: np.asarray(v, np.float32).reshape(-1, 4) for k, v in table.items()}


def _check_box(b, path: Path, where: str) -> list[float]:
    try:
        vals = [float(v) for v in b]
    except (TypeError, ValueError):
        raise DataError(path, f"{where}: box {b!r} is not four numbers") from None
    with np.errstate(over="ignore"):
        finite = len(vals) == 4 and np.isfinite(np.asarray(vals, np.float32)).all()  # boxes are used as float32
    if not finite:
        raise DataError(path, f"{where}: box {b!r} is not four finite numbers within the range of 32-bit floats")
    if vals[2] <= vals[0] or vals[3] <= vals[1]:
        raise DataError(path, f"{where}: box {vals} has zero or negative size (x2 <= x1 or y2 <= y1)")
    return vals
