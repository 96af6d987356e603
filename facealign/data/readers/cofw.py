"""COFW MATLAB files (v5 through scipy, v7.3/HDF5 through h5py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.sample import LandmarkSet, Sample, check_points
from facealign.errors import DataError
from facealign.schemes import COFW_29

# (images, shapes, boxes) field names of the official files.
_FIELDS = {"train": ("IsTr", "phisTr", "bboxesTr"), "test": ("IsT", "phisT", "bboxesT")}


def _load_v5(p: Path) -> dict:
    import scipy.io as sio

    try:
        return sio.loadmat(str(p))
    except NotImplementedError:
        raise  # v7.3: caller switches to h5py
    except Exception as e:  # noqa: BLE001 - scipy raises many kinds for corrupt files
        raise DataError(p, f"not a readable MATLAB file ({e})") from None


def _load_v73(p: Path, names: tuple[str, ...]) -> dict:
    import h5py

    try:
        f = h5py.File(str(p), "r")
    except OSError as e:
        raise DataError(p, f"not a readable MATLAB v7.3 (HDF5) file ({e})") from None
    out: dict = {}
    with f:
        for name in names:
            if name not in f:
                continue
            ds = f[name]
            if ds.dtype == h5py.ref_dtype:
                # MATLAB cell arrays are HDF5 object references; arrays are stored transposed.
                refs = np.asarray(ds).ravel()
                out[name] = [np.asarray(f[r]).T for r in refs]
            else:
                out[name] = np.asarray(ds).T
    return out


def _split_file(folder: Path, split: str) -> Path:
    """The one ``COFW_<split>*.mat`` in ``folder``."""
    found = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() == ".mat"
                   and f.name.lower().startswith(f"cofw_{split.lower()}"))
    if not found:
        raise DataError(folder, f"no COFW_{split}*.mat file in this folder")
    if len(found) > 1:
        raise DataError(folder, f"several COFW {split} files ({', '.join(f.name for f in found)}); name one")
    return found[0]


def read_cofw(path: str | Path, split: str | None = None) -> LandmarkSet:
    """Read ``COFW_train*.mat`` / ``COFW_test*.mat``.

    Shapes are 87 numbers per face: 29 x, 29 y (1-based), 29 occlusion flags (1 = occluded);
    boxes are (x, y, w, h), 1-based. Images are embedded (grey or colour) and kept in memory.

    Args:
        path: The .mat file, or a folder holding the official ``COFW_train*.mat`` /
            ``COFW_test*.mat``: the file of ``split`` (default test) is read, and the set's name
            says which.
        split: ``train`` or ``test``; by default whichever field set the file holds.
    """
    p = Path(path)
    if p.is_dir():
        p = _split_file(p, split or "test")
    if not p.is_file():
        raise DataError(p, "COFW .mat file not found")
    all_names = tuple(n for names in _FIELDS.values() for n in names)
    import h5py

    if h5py.is_hdf5(str(p)):
        mat = _load_v73(p, all_names)
    else:
        try:
            mat = _load_v5(p)
        except NotImplementedError:
            mat = _load_v73(p, all_names)
    splits = [split] if split else [s for s, names in _FIELDS.items() if names[1] in mat]
    if not splits:
        raise DataError(p, f"no COFW shape field found (expected one of phisTr, phisT); fields: "
                           f"{sorted(k for k in mat if not k.startswith('__'))}")
    sp = splits[0]
    if sp not in _FIELDS:
        raise DataError(p, f"unknown COFW split {sp!r}; use train or test")
    img_f, shp_f, box_f = _FIELDS[sp]
    for f in (img_f, shp_f):
        if f not in mat:
            raise DataError(p, f"missing field {f!r} for the {sp} split")
    images = mat[img_f]
    images = [np.asarray(im) for im in (np.asarray(images, dtype=object).ravel() if not isinstance(images, list) else images)]
    shapes = np.asarray(mat[shp_f], dtype=np.float64)
    if shapes.ndim != 2 or shapes.shape[1] != 87:
        raise DataError(p, f"field {shp_f!r} must be N x 87 (29 x, 29 y, 29 flags), got {shapes.shape}")
    if len(images) != len(shapes):
        raise DataError(p, f"{img_f!r} has {len(images)} images but {shp_f!r} has {len(shapes)} shapes")
    boxes = np.asarray(mat[box_f], dtype=np.float64) if box_f in mat else None
    if boxes is not None and boxes.shape != (len(shapes), 4):
        raise DataError(p, f"field {box_f!r} must be N x 4 (x, y, w, h), got {boxes.shape}")
    samples = []
    for i, (im, row) in enumerate(zip(images, shapes)):
        src = f"{p}[{i}]"
        if im.ndim == 2:
            im = np.repeat(im[:, :, None], 3, axis=2)
        if im.ndim != 3 or im.shape[2] != 3 or im.size == 0:
            raise DataError(p, f"face {i}: image has shape {im.shape}, expected H x W or H x W x 3")
        if im.dtype != np.uint8:
            im = np.clip(im, 0, 255).astype(np.uint8)
        pts = check_points(np.stack([row[:29], row[29:58]], axis=1) - 1.0, 29, src, path=p, line=i + 1)
        box = None
        if boxes is not None:
            x, y, w, h = boxes[i]
            if not (w > 0 and h > 0):
                raise DataError(p, f"face {i}: box {boxes[i].tolist()} has zero or negative size")
            box = np.array([x - 1, y - 1, x - 1 + w, y - 1 + h], np.float32)
        samples.append(Sample(image=np.ascontiguousarray(im), landmarks=pts, key=f"{p.name}[{i}]", source=src,
                              box=box, visible=row[58:87] == 0, subsets=("full",)))
    return LandmarkSet(f"cofw ({p.name})", COFW_29, samples, p.parent)
