"""Landmarks for many images on a Ray cluster (or this machine), written as resumable shards.

The images are cut into shards of ``shard_size`` (in the order given); each shard becomes one
output file (``shard-00000.jsonl`` or ``.parquet``), written under a temporary name and renamed
when complete, so a run that stops leaves only whole shards and a re-run skips them. The shards
still to do stream through one Ray Data pipeline: reading and decoding in Ray tasks, then an actor
pool of aligners (one model load per actor; detection and a batched landmark stage per batch of
images).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facealign.errors import FaceAlignError
from facealign.predict.options import AlignerOptions

FORMATS = ("jsonl", "parquet")


@dataclass
class RayRun:
    """What :func:`predict_on_ray` did."""

    images: int
    shards_written: list[Path]
    shards_skipped: int
    failed: int


def shard_paths(paths: list[str], shard_size: int) -> list[list[str]]:
    return [paths[i:i + shard_size] for i in range(0, len(paths), shard_size)]


# The record of what the shards under an --out folder hold: the model's sha256, the options and,
# per shard, a digest of the inputs it covers. A re-run skips a shard only when all of these match.
RUN_FILE = "facealign_ray_run.json"


def _digest(lines: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def plan_run(out: Path, names: list[Path], shards: list[list[str]], model_sha256: str, options: dict[str, Any],
             overwrite: bool) -> list[int]:
    """Indices of the shards to (re)write, after checking the shards already in ``out``.

    Raises:
        FaceAlignError: ``out`` holds shards of another model, other options or other inputs, or
            shards with no record of their run (unless ``overwrite``: then they are rewritten).
    """
    from facealign.utils.io import atomic_write_text

    record: dict[str, Any] = {"model_sha256": model_sha256, "options": options,
              "shards": {n.name: _digest(paths) for n, paths in zip(names, shards)}}
    run_file = out / RUN_FILE
    old = _read_run(run_file)
    present = sorted(p.name for p in out.glob("shard-*.*"))
    todo = list(range(len(names)))
    if present and not overwrite:
        if old is None:
            raise FaceAlignError(f"{out}: holds shards without a record of the run that wrote them ({RUN_FILE}); "
                                 "pass --overwrite to replace them, or choose another --out")
        for key in ("model_sha256", "options"):
            if old.get(key) != record[key]:
                raise FaceAlignError(f"{out}: its shards were written with another {key.split('_')[0]} "
                                     f"({old.get(key)!r:.120} here, {record[key]!r:.120} now); pass --overwrite to "
                                     "rewrite them, or choose another --out")
        changed = [n for n in present if n in old.get("shards", {}) and old["shards"][n] != record["shards"].get(n)]
        if changed:
            raise FaceAlignError(f"{out / changed[0]}: covers other images than this run's shard of that name "
                                 f"({len(changed)} such shards); pass --overwrite to rewrite them, or choose another --out")
        todo = [i for i, n in enumerate(names) if not n.exists()]
    if overwrite:
        for name in present:  # shards of this name pattern are facealign's; a rewrite starts clean
            (out / name).unlink()
    atomic_write_text(run_file, json.dumps(record, indent=1) + "\n")
    return todo


def _read_run(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    # a record whose shards are not a mapping is no record (a hand-edited or damaged file)
    return data if isinstance(data, dict) and isinstance(data.get("shards", {}), dict) else None


class _AlignerActor:
    """One FaceAligner per Ray actor; a batch of images per call."""

    def __init__(self, options: dict[str, Any]):
        self.aligner = AlignerOptions.from_dict(options).build()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from facealign.data.images import read_image
        from facealign.errors import FaceAlignError as Error

        images: list[np.ndarray | None] = []
        errors: list[str] = []
        for p in batch["path"]:
            try:
                images.append(read_image(p))
                errors.append("")
            except Error as e:
                images.append(None)
                errors.append(str(e))
        ok = [i for i, im in enumerate(images) if im is not None]
        results = self.aligner.predict([images[i] for i in ok], sources=[str(batch["path"][i]) for i in ok]) if ok else []
        records = [""] * len(images)
        for i, res in zip(ok, results):
            records[i] = json.dumps(res.to_json())
        return {"path": batch["path"], "shard": batch["shard"], "record": np.array(records, dtype=object),
                "error": np.array(errors, dtype=object)}


def predict_on_ray(paths: Iterable[str | Path], out_dir: str | Path, options: AlignerOptions | None = None,
                   shard_size: int = 1000, actors: int = 2, batch_size: int = 16, fmt: str = "jsonl",
                   address: str | None = None, progress=None, gpus_per_actor: float = 0.0, overwrite: bool = False,
                   verbose: bool = False) -> RayRun:
    """Landmarks for every image of ``paths`` into shards under ``out_dir``.

    Args:
        paths: Image files (local paths every Ray worker can read).
        options: The aligner each actor builds (model, detector, search, refine, flip, backend; its
            ``threads``, default 1, are the CPUs Ray gives each actor): the same settings as a
            local ``facealign predict`` with the same flags.
        shard_size: Images per output file.
        actors: Aligner actors (each loads the model once).
        batch_size: Images per actor call (their faces share one landmark pass).
        fmt: ``jsonl`` (one ``predict`` JSON per line, ``error`` for unreadable images) or
            ``parquet`` (columns ``path``, ``record`` (that JSON), ``error``).
        address: Ray cluster to join (``auto``, ``ray://host:10001``); None starts or joins a local one.
        progress: Called with the number of images done after each shard.
        gpus_per_actor: GPUs Ray reserves for each actor (e.g. 1, or 0.5 to share one between two);
            above 0 the actors run the landmark stage on ``cuda`` with PyTorch (not tested without a GPU).
        overwrite: Rewrite shards that ``out_dir`` holds from another model, other options or other
            inputs (:func:`plan_run`); without it such a folder is refused.
        verbose: Let Ray's own log lines and warnings through (default: into ``out_dir/facealign_ray.log``).
    """
    import ray  # noqa: F401 - without the [ray] extra this fails here, before any file is written

    from facealign.predict.aligner import resolve_precision

    if fmt not in FORMATS:
        raise FaceAlignError(f"unknown shard format {fmt!r}; choose one of {list(FORMATS)}")
    if shard_size < 1 or actors < 1 or batch_size < 1 or not 0 <= gpus_per_actor <= 8:
        raise FaceAlignError("shard_size, actors and batch_size must be >= 1, gpus_per_actor in [0, 8]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    all_paths = [str(p) for p in paths]
    shards = shard_paths(all_paths, shard_size)
    names = [out / f"shard-{i:05d}.{fmt}" for i in range(len(shards))]
    aligner = options or AlignerOptions()
    if aligner.threads is None:
        aligner = aligner.replace(threads=1)
    if gpus_per_actor > 0:  # on a GPU the landmark stage runs in PyTorch (ONNX Runtime here is the CPU build)
        aligner = aligner.replace(device="cuda", backend="torch")
    # precision "auto" picks int8 by the CPU it runs on: decided here, once, so that every actor
    # (whichever node it lands on) runs the same file, and the record says which
    aligner = aligner.replace(precision=resolve_precision(aligner.precision, aligner.model, aligner.backend,
                                                          aligner.device))
    # what changes the results is recorded; threads only change the speed
    recorded = {**{k: v for k, v in aligner.to_dict().items() if k != "threads"}, "shard_size": shard_size, "format": fmt}
    todo = plan_run(out, names, shards, _model_sha256(aligner.model, aligner.precision == "int8"), recorded, overwrite)
    run = RayRun(len(all_paths), [], len(shards) - len(todo), 0)
    if not todo:
        return run
    log = None if verbose else out / LOG_FILE
    with _stderr_into(log):
        _run_shards(run, todo, shards, names, fmt, progress, dict(
            aligner=aligner.to_dict(), actors=actors, batch_size=batch_size, gpus_per_actor=gpus_per_actor,
            address=address, verbose=verbose))
    return run


# Where Ray's own output goes unless verbose: its C++ core writes to the process's stderr directly
# (core_worker.cc lines), and its Python loggers warn of deprecations and notes a user cannot act on.
LOG_FILE = "facealign_ray.log"


@contextlib.contextmanager
def _stderr_into(path: Path | None) -> Iterator[None]:
    """Send this process's file descriptor 2 to ``path`` (appended) for the block; None: leave it."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _run_shards(run: RayRun, todo: list[int], shards: list[list[str]], names: list[Path], fmt: str, progress: Any,
                opts: dict[str, Any]) -> None:
    """Stream the shards ``todo`` through one Ray Data pipeline, writing each as it completes."""
    import ray

    # not verbose: Python-level notes (deprecations, "progress bars disabled") are not emitted at all, and
    # what Ray's C++ core writes to file descriptor 2 goes to the log file (_stderr_into)
    level = logging.INFO if opts["verbose"] else logging.ERROR
    if not ray.is_initialized():
        ray.init(address=opts["address"], ignore_reinit_error=True, include_dashboard=False,
                 log_to_driver=opts["verbose"], logging_level=level)
    import ray.data

    logging.getLogger("ray.data").setLevel(level)  # per-operator lines would drown the summary
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.execution_options.preserve_order = True  # rows come back shard by shard, in order
    items = [{"path": p, "shard": i} for i in todo for p in shards[i]]
    ds = ray.data.from_items(items).map_batches(
        _AlignerActor, fn_constructor_kwargs={"options": opts["aligner"]},
        batch_size=opts["batch_size"], compute=ray.data.ActorPoolStrategy(size=opts["actors"]),
        num_cpus=opts["aligner"]["threads"], num_gpus=opts["gpus_per_actor"], batch_format="numpy")
    current: int | None = None
    rows: list[dict[str, Any]] = []
    for row in ds.iter_rows():
        if current is not None and row["shard"] != current:
            run.shards_written.append(_write_shard(names[current], rows, fmt))
            if progress:
                progress(len(rows))
            rows = []
        current = row["shard"]
        rows.append(row)
        run.failed += bool(row["error"])
    if rows and current is not None:
        run.shards_written.append(_write_shard(names[current], rows, fmt))
        if progress:
            progress(len(rows))


def _model_sha256(model: str, int8: bool = False) -> str:
    """sha256 of the file the actors run (the int8 copy with ``int8``)."""
    from facealign.zoo import resolve, resolve_onnx, sha256_file

    return sha256_file(resolve_onnx(model, int8) or resolve(model))


def _write_shard(path: Path, rows: list[dict[str, Any]], fmt: str) -> Path:
    from facealign.utils.io import atomic_write

    def jsonl(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write((r["record"] if r["record"] else json.dumps({"image": r["path"], "error": r["error"]})) + "\n")

    def parquet(tmp: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"path": [r["path"] for r in rows], "record": [r["record"] or None for r in rows],
                                 "error": [r["error"] or None for r in rows]}), tmp)

    atomic_write(path, jsonl if fmt == "jsonl" else parquet)
    return path
