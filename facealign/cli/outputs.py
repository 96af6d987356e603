"""Where ``facealign predict`` writes, and what it may replace there.

Rules (docs/robustness.md):
- every input gets its own outputs: ``a.jpg`` and ``a.png`` of one folder write ``a.jpg.json`` and
  ``a.png.json`` (not one ``a.json``); the same relative path under two inputs is refused before
  any work, since their outputs would land on one file;
- a file at an output path is replaced only when facealign wrote it (a result JSON of its
  layout, an overlay PNG with facealign's mark, a video's JSON Lines), or with ``--overwrite``;
  anything else (the user's own ``a.json``, a ``landmarks.csv`` or ``.pts`` files) is refused
  in one line before any work;
- files this run writes are never read as its inputs (an overlay in the input folder).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from facealign.errors import DataError, FaceAlignError
from facealign.predict.draw import PNG_MARK
from facealign.utils.io import pid_alive

RESULT_KEYS = {"image", "height", "width", "scheme", "num_points", "faces"}


@dataclass(frozen=True)
class ImageOutputs:
    """The output paths of one input image (under ``--out``)."""

    stem: Path  # relative to --out, without suffix: a result is stem + ".json"

    def json(self, out: Path) -> Path:
        return out / self.stem.with_name(self.stem.name + ".json")

    def overlay(self, out: Path) -> Path:
        return out / self.stem.with_name(self.stem.name + "_overlay.png")

    def pts(self, out: Path, face: int) -> Path:
        return out / self.stem.with_name(f"{self.stem.name}_{face}.pts")

    def old_pts(self, out: Path) -> list[Path]:
        """``.pts`` files of this image already in ``out`` (``stem_<face>.pts``)."""
        folder = out / self.stem.parent
        pat = re.compile(re.escape(self.stem.name) + r"_\d+\.pts")
        return sorted(p for p in folder.glob("*.pts") if pat.fullmatch(p.name)) if folder.is_dir() else []


def plan_outputs(images: list[tuple[Path, Path]]) -> list[ImageOutputs]:
    """One :class:`ImageOutputs` per (path, relative path) input; raises on a real collision."""
    by_stem: dict[Path, list[int]] = {}
    for i, (_, rel) in enumerate(images):
        by_stem.setdefault(rel.with_suffix(""), []).append(i)
    plan: list[ImageOutputs] = [ImageOutputs(Path())] * len(images)
    for stem, idx in by_stem.items():
        rels = [images[i][1] for i in idx]
        if len(set(rels)) < len(rels):
            first, second = (images[i][0] for i in idx if rels.count(images[i][1]) > 1)
            raise FaceAlignError(f"{first} and {second}: both would write {stem}.json under --out (same name under "
                                 "two inputs); run them into separate --out folders")
        for i in idx:  # a.jpg and a.png of one folder keep their extensions apart
            plan[i] = ImageOutputs(stem if len(idx) == 1 else images[i][1])
    return plan


def drop_own_outputs(images: list[tuple[Path, Path]], out: Path | None) -> list[tuple[Path, Path]]:
    """Inputs that are not facealign's own outputs (``--out`` inside an input folder): neither the
    overlays this command writes nor any PNG under ``out`` carrying facealign's mark (overlays and
    face crops of earlier runs), so a re-run never crops or annotates its own results."""
    if out is None:
        return images
    plan = plan_outputs(images)
    own = {os.path.realpath(p.overlay(out)) for p in plan}
    root = os.path.realpath(out) + os.sep
    return [im for im in images if os.path.realpath(im[0]) not in own
            and not (os.path.realpath(im[0]).startswith(root) and is_facealign_png(im[0]))]


def is_facealign_json(path: Path, keys: set[str] = RESULT_KEYS) -> bool:
    """Whether ``path`` holds a JSON object with ``keys`` (a result file by default)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and keys <= set(data)


def is_facealign_png(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.startswith(b"\x89PNG") and PNG_MARK in head


def is_facealign_jsonl(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    if not first:
        return True  # an empty file holds nothing to lose
    try:
        rec = json.loads(first)
    except ValueError:
        return False
    return isinstance(rec, dict) and {"frame", "time", "faces"} <= set(rec)


def check_replaceable(paths: list[tuple[Path, bool]], overwrite: bool) -> None:
    """Refuse (one line, before any work) when an existing output is not facealign's to replace.

    ``paths``: (output path, whether facealign wrote the file there now).
    """
    if overwrite:
        return
    foreign = [p for p, ours in paths if not ours]
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise DataError(foreign[0], f"exists and was not written by facealign{more}; pass --overwrite to replace, "
                                    "or choose another --out")


def check_output_file(path: Path, overwrite: bool) -> None:
    """Refuse, before any work, an output file that would replace one the user has (unless
    ``overwrite``), that names a folder, or that cannot be written where it is."""
    if path.is_dir():
        raise DataError(path, "is a folder; --out names the file to write")
    if path.exists() and not overwrite:
        raise DataError(path, "exists; pass --overwrite to replace it, or choose another --out")
    check_writable_folder(path.parent)


def check_output_folder(path: Path) -> None:
    """Refuse, before any work, an output folder that is a file or cannot be written."""
    if path.exists() and not path.is_dir():
        raise DataError(path, "--out must be a folder, and a file of that name exists")
    check_writable_folder(path)


def check_writable_folder(folder: Path) -> None:
    """Its nearest existing ancestor must be a folder this process may write (it is made later)."""
    probe = Path(os.path.abspath(folder))
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise DataError(probe, f"is a file, so {folder} cannot be made")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise DataError(probe, "cannot write here (permission denied)")


def image_outputs_in_place(plan: list[ImageOutputs], out: Path, fmt: str, overlay: bool) -> list[tuple[Path, bool]]:
    """Existing files at the outputs of ``plan``, each with whether facealign wrote it."""
    found: list[tuple[Path, bool]] = []
    for p in plan:
        if fmt == "json" and p.json(out).exists():
            found.append((p.json(out), is_facealign_json(p.json(out))))
        if fmt == "pts":
            found += [(q, False) for q in p.old_pts(out)]
        if overlay and p.overlay(out).exists():
            found.append((p.overlay(out), is_facealign_png(p.overlay(out))))
    if fmt == "csv" and (out / "landmarks.csv").exists():
        found.append((out / "landmarks.csv", False))
    return found


class OutputLock:
    """``out/.NAME.lock`` holding this process's PID while one run writes ``out/NAME``: a second
    run at the same time is refused instead of losing the first one's rows. A lock whose process
    is gone (killed) is taken over."""

    def __init__(self, target: Path):
        self.target = target
        self.path = target.with_name(f".{target.name}.lock")

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or "0")
                except (OSError, ValueError):
                    pid = 0
                if pid and pid_alive(pid):
                    raise FaceAlignError(f"{self.target}: another facealign run (PID {pid}) is writing it; "
                                         "wait for it or choose another --out") from None
                self.path.unlink(missing_ok=True)  # left by a killed run
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return self
        raise FaceAlignError(f"{self.target}: could not take its lock file {self.path}")

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)
