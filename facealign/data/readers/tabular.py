"""Generic formats: CSV (``file,x0,y0,...``) and COCO-style keypoint JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from facealign.data.images import require_regular_file, resolve_in_root
from facealign.data.sample import LandmarkSet, Sample, check_points
from facealign.errors import DataError
from facealign.schemes import Scheme, get_scheme, scheme_for_points

# Columns ``facealign predict --format csv`` writes between ``file`` and the points: which face of
# the image, its box and the detector's confidence (empty for a face a video tracker followed).
FACE_COLUMNS = ("face", "box_x1", "box_y1", "box_x2", "box_y2", "detection_score")


def read_landmark_csv(path: str | Path) -> list[tuple[int, str, np.ndarray]]:
    """Parse a landmark CSV: header ``file,x0,y0,...,x{K-1},y{K-1}``, one face a row, optionally
    with :data:`FACE_COLUMNS` after ``file`` (as predict writes them; read past, not used).

    Several rows may name the same file: they are several faces of that image, in order.

    Returns:
        (line number, file, (K, 2) float32) per row.
    """
    p = Path(path)
    try:
        require_regular_file(p)
        fh = open(p, newline="", encoding="utf-8-sig")  # -sig: a byte-order mark (spreadsheets write one) is not part of 'file'
    except OSError as e:
        raise DataError(p, f"cannot open CSV ({e.strerror})") from None
    try:
        with fh:
            return _csv_rows(p, fh)
    except UnicodeDecodeError as e:
        raise DataError(p, f"not a UTF-8 text file (byte {e.start} of a chunk cannot be decoded)") from None
    except csv.Error as e:
        raise DataError(p, f"malformed CSV ({e})") from None


def _csv_rows(p: Path, fh: Any) -> list[tuple[int, str, np.ndarray]]:
    rows = []
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        raise DataError(p, "empty CSV file (no header)")
    header = [h.strip() for h in header]
    skip = len(FACE_COLUMNS) if tuple(header[1:1 + len(FACE_COLUMNS)]) == FACE_COLUMNS else 0
    if not header or header[0] != "file" or len(header) - skip < 3 or (len(header) - skip) % 2 != 1:
        raise DataError(p, "header must be file,x0,y0,x1,y1,... (an odd number of columns)", 1)
    k = (len(header) - 1 - skip) // 2
    expected = [c for i in range(k) for c in (f"x{i}", f"y{i}")]
    if header[1 + skip:] != expected:
        bad = next(i for i, (a, b) in enumerate(zip(header[1 + skip:], expected)) if a != b)
        raise DataError(p, f"header column {bad + 2 + skip} is {header[bad + 1 + skip]!r}, expected {expected[bad]!r}", 1)
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DataError(p, f"expected {len(header)} columns, found {len(row)}", line)
        try:
            vals = np.array([float(c) for c in row[1 + skip:]], dtype=np.float64)
        except ValueError:
            text = next(c for c in row[1 + skip:] if not _is_float(c))
            raise DataError(p, f"non-numeric value {text!r}", line) from None
        pts = check_points(vals.reshape(k, 2), k, str(p), line, path=p)
        rows.append((line, row[0].strip(), pts))
    return rows


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def write_landmark_csv(path: str | Path, keys: list[str], landmarks: np.ndarray,
                       faces: list[tuple[int, np.ndarray, float]] | None = None) -> None:
    """Write (N, K, 2) landmarks as a landmark CSV (atomically).

    Args:
        faces: Per row, (face index in its image, (4,) box, detector confidence or NaN): written as
            :data:`FACE_COLUMNS` after ``file``; None writes the plain layout.
    """
    from facealign.utils.io import atomic_write_text

    k = landmarks.shape[1]
    header = ["file", *(FACE_COLUMNS if faces is not None else ()), *(f"{c}{i}" for i in range(k) for c in "xy")]
    lines = [",".join(header)]
    for n, (key, pts) in enumerate(zip(keys, landmarks)):
        cells = [_csv_field(key)]
        if faces is not None:
            index, box, score = faces[n]
            cells += [str(index), *(f"{v:.2f}" for v in box), "" if not np.isfinite(score) else f"{score:.4f}"]
        lines.append(",".join(cells + [f"{v:.4f}" for v in pts.reshape(-1)]))
    atomic_write_text(path, "\n".join(lines) + "\n")


def _csv_field(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n') else s


def read_csv_dataset(path: str | Path, images: str | Path | None = None,
                     scheme: Scheme | str | None = None) -> LandmarkSet:
    """A landmark CSV as a data set. Images are looked up in ``images``, else in an ``images/``
    folder beside the CSV when there is one, else beside the CSV."""
    p = Path(path)
    if p.is_dir():
        p = p / "landmarks.csv"
    rows = read_landmark_csv(p)
    if not rows:
        raise DataError(p, "CSV has a header but no faces")
    if images is not None:
        root = Path(images)
    else:
        root = p.parent / "images" if (p.parent / "images").is_dir() else p.parent
    k = rows[0][2].shape[0]
    sch = get_scheme(scheme) if scheme is not None else scheme_for_points(k)
    if sch.num_points != k:
        raise DataError(p, f"CSV has {k} points per face but scheme {sch.name!r} has {sch.num_points}")
    samples = [Sample(image=resolve_in_root(root, f, p, line), landmarks=pts, key=f, source=f"{p}:{line}",
                      subsets=("full",)) for line, f, pts in rows]
    return LandmarkSet(f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem, sch, samples, root)


def read_coco(path: str | Path, images: str | Path | None = None, scheme: Scheme | str | None = None) -> LandmarkSet:
    """COCO-style keypoint JSON: ``images`` (id, file_name), ``annotations`` (image_id,
    keypoints as x, y, v triplets, optional bbox x, y, w, h). ``v == 0`` marks a point not
    visible (its coordinates are still used when finite)."""
    p = Path(path)
    data = read_json_file(p)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise DataError(p, "COCO keypoint JSON must have lists 'images' and 'annotations'")
    root = Path(images) if images is not None else p.parent
    try:
        files = {im["id"]: im["file_name"] for im in data["images"]}
    except (KeyError, TypeError):
        raise DataError(p, "every entry of 'images' needs 'id' and 'file_name'") from None
    bad = next((f for f in files.values() if not isinstance(f, str)), None)
    if bad is not None:
        raise DataError(p, f"image file_name must be a string, got {bad!r}")
    samples = []
    k_first = None
    for i, ann in enumerate(data["annotations"]):
        src = f"{p}[annotations][{i}]"
        if not isinstance(ann, dict) or "keypoints" not in ann or "image_id" not in ann:
            raise DataError(p, f"annotation {i} needs 'image_id' and 'keypoints'")
        if not isinstance(ann["image_id"], (int, str)) or ann["image_id"] not in files:
            raise DataError(p, f"annotation {i} refers to unknown image_id {ann['image_id']!r}")
        kp = ann["keypoints"]
        if not isinstance(kp, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in kp):
            raise DataError(p, f"annotation {i}: keypoints must be a flat list of numbers (x, y, v triplets)")
        kp = np.asarray(kp, dtype=np.float64)
        if kp.ndim != 1 or kp.size % 3 != 0:
            raise DataError(p, f"annotation {i}: keypoints must be a flat list of x, y, v triplets")
        kp = kp.reshape(-1, 3)
        k_first = k_first or len(kp)
        pts = check_points(kp[:, :2], k_first, src, path=p, line=None)
        box = None
        if "bbox" in ann:
            b = ann["bbox"]
            if not (isinstance(b, list) and len(b) == 4 and all(isinstance(v, (int, float)) for v in b)):
                raise DataError(p, f"annotation {i}: bbox must be four numbers x, y, w, h, got {b!r}"[:300])
            x, y, w, h = (float(v) for v in b)
            if not (w > 0 and h > 0):
                raise DataError(p, f"annotation {i}: bbox {ann['bbox']} has zero or negative size")
            box = np.array([x, y, x + w, y + h], np.float32)
        fname = files[ann["image_id"]]
        samples.append(Sample(image=resolve_in_root(root, fname, p), landmarks=pts, key=fname, source=src, box=box,
                              visible=kp[:, 2] > 0, subsets=("full",)))
    if not samples or k_first is None:
        raise DataError(p, "no annotations")
    sch = get_scheme(scheme) if scheme is not None else scheme_for_points(k_first)
    if sch.num_points != k_first:
        raise DataError(p, f"keypoints have {k_first} points but scheme {sch.name!r} has {sch.num_points}")
    return LandmarkSet(p.stem, sch, samples, root)


def read_json_file(p: Path) -> Any:
    """A JSON annotation file's data; one :class:`DataError` for every way it can be unreadable."""
    try:
        require_regular_file(p)
        return json.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise DataError(p, f"cannot read JSON ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise DataError(p, f"not a UTF-8 text file (byte {e.start} cannot be decoded)") from None
    except json.JSONDecodeError as e:
        raise DataError(p, f"invalid JSON ({e.msg})", e.lineno) from None
    except RecursionError:
        raise DataError(p, "JSON nested too deeply to be an annotation file") from None
