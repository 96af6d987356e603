"""Landmarks for many images on a Ray cluster (or this machine), written as resumable shards.

The images are cut into shards of ``shard_size`` (in the order given); each shard becomes one
output file (``shard-00000.jsonl`` or ``.parquet``), written under a temporary name and renamed
when complete, so a run that stops leaves only whole shards and a re-run skips them. The shards
still to do stream through one Ray Data pipeline: reading and decoding in Ray tasks, then an actor
pool of aligners (one model load per actor; detection and a batched landmark stage per batch of
images).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facealign.errors import FaceAlignError

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


class _AlignerActor:
    """One FaceAligner per Ray actor; a batch of images per call."""

    def __init__(self, model: str, detector: str, threads: int | None, device: str = "cpu"):
        from facealign.predict import FaceAligner

        # on a GPU the landmark stage runs in PyTorch (ONNX Runtime here is the CPU build)
        self.aligner = FaceAligner(model, detector, threads=threads, device=device,
                                   backend="torch" if device != "cpu" else "auto")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from facealign.data.images import read_image
        from facealign.errors import FaceAlignError as Error

        images, errors = [], []
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


def predict_on_ray(paths: Iterable[str | Path], out_dir: str | Path, model: str = "default", detector: str = "auto",
                   shard_size: int = 1000, actors: int = 2, batch_size: int = 16, threads_per_actor: int | None = 1,
                   fmt: str = "jsonl", address: str | None = None, progress=None,
                   gpus_per_actor: float = 0.0) -> RayRun:
    """Landmarks for every image of ``paths`` into shards under ``out_dir``.

    Args:
        paths: Image files (local paths every Ray worker can read).
        shard_size: Images per output file.
        actors: Aligner actors (each loads the model once and takes ``threads_per_actor`` CPUs).
        batch_size: Images per actor call (their faces share one landmark pass).
        fmt: ``jsonl`` (one ``predict`` JSON per line, ``error`` for unreadable images) or
            ``parquet`` (columns ``path``, ``record`` (that JSON), ``error``).
        address: Ray cluster to join (``auto``, ``ray://host:10001``); None starts or joins a local one.
        progress: Called with the number of images done after each shard.
        gpus_per_actor: GPUs Ray reserves for each actor (e.g. 1, or 0.5 to share one between two);
            above 0 the actors run the landmark stage on ``cuda`` with PyTorch. Not run here: this
            workplace has no GPU.
    """
    import ray

    if fmt not in FORMATS:
        raise FaceAlignError(f"unknown shard format {fmt!r}; choose one of {list(FORMATS)}")
    if shard_size < 1 or actors < 1 or batch_size < 1 or not 0 <= gpus_per_actor <= 8:
        raise FaceAlignError("shard_size, actors and batch_size must be >= 1, gpus_per_actor in [0, 8]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    all_paths = [str(p) for p in paths]
    shards = shard_paths(all_paths, shard_size)
    names = [out / f"shard-{i:05d}.{fmt}" for i in range(len(shards))]
    todo = [i for i, n in enumerate(names) if not n.exists()]
    run = RayRun(len(all_paths), [], len(shards) - len(todo), 0)
    if not todo:
        return run
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # per-operator progress lines would drown the summary
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.execution_options.preserve_order = True  # rows come back shard by shard, in order
    items = [{"path": p, "shard": i} for i in todo for p in shards[i]]
    ds = ray.data.from_items(items).map_batches(
        _AlignerActor, fn_constructor_kwargs={"model": model, "detector": detector, "threads": threads_per_actor,
                                              "device": "cuda" if gpus_per_actor > 0 else "cpu"},
        batch_size=batch_size, concurrency=actors, num_cpus=threads_per_actor or 1, num_gpus=gpus_per_actor,
        batch_format="numpy")
    current, rows = None, []
    for row in ds.iter_rows():
        if current is not None and row["shard"] != current:
            run.shards_written.append(_write_shard(names[current], rows, fmt))
            if progress:
                progress(len(rows))
            rows = []
        current = row["shard"]
        rows.append(row)
        run.failed += bool(row["error"])
    if rows:
        run.shards_written.append(_write_shard(names[current], rows, fmt))
        if progress:
            progress(len(rows))
    return run


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
