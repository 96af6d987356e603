"""``facealign predict``: landmarks on images, folders and videos."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from facealign.cli.common import add_aligner_args, aligner_options, at_least, console, progress_bar, say
from facealign.cli.inputs import collect
from facealign.cli.outputs import (
    ImageOutputs,
    OutputLock,
    check_output_folder,
    check_replaceable,
    drop_own_outputs,
    image_outputs_in_place,
    is_facealign_jsonl,
    plan_outputs,
)
from facealign.errors import DataError, FaceAlignError
from facealign.schemes import get_scheme
from facealign.utils.io import remove_dead_temps_under


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="detect faces and place landmarks on images, folders or videos")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files, folders, video files or a camera index")
    add_aligner_args(p, boxes=True)
    p.add_argument("--out", help="output folder (default: JSON Lines on standard output)")
    p.add_argument("--format", default="json", choices=["json", "csv", "pts"],
                   help="json: one file per image; csv: one landmarks.csv for all; pts: one .pts per face")
    p.add_argument("--scheme-out", metavar="SCHEME",
                   help="write the points in another scheme through its declared map (e.g. 300w from a wflw "
                        "model, five for eye centres, nose tip and mouth corners)")
    p.add_argument("--overlay", action="store_true", help="also write a PNG (or MP4 for videos) with the landmarks drawn")
    p.add_argument("--pose-axes", action="store_true", help="draw each head's pose as three axes on the overlay")
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--skip-existing", action="store_true",
                   help="skip images whose outputs (JSON, and the overlay with --overlay) already exist")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files at output paths even when facealign did not write them")
    p.add_argument("--batch", type=at_least(1), default=16, help="images per batch (all their faces share forward passes)")
    p.add_argument("--smooth", action="store_true", help="videos: One-Euro smoothing of landmark tracks")
    p.add_argument("--detect-every", type=at_least(1), default=10, help="videos: run the detector every N frames (default 10)")
    p.add_argument("--max-frames", type=at_least(1), help="videos: stop after N frames")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: images across a Ray cluster's actors, written as resumable shards under --out "
                        "(pip install 'facealign[ray]'; docs/distributed.md)")
    p.add_argument("--address", help="ray: the cluster to join (auto, ray://HOST:10001); default a local one")
    p.add_argument("--actors", type=at_least(1), default=2, help="ray: aligner actors (one model load each)")
    p.add_argument("--verbose", action="store_true", help="ray: show Ray's own log lines and warnings (default: errors only)")
    p.add_argument("--shard-size", type=at_least(1), default=1000, help="ray: images per output shard")
    p.add_argument("--shard-format", choices=["jsonl", "parquet"], default="jsonl", help="ray: shard file format")
    p.add_argument("--gpus-per-actor", type=at_least(0.0, float), default=0.0,
                   help="ray: GPUs per actor (e.g. 1 or 0.5); above 0 the landmark stage runs on CUDA")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    if args.engine == "ray":
        return _run_on_ray(args)
    images, videos = collect(args.paths, args.recursive)
    out = Path(args.out) if args.out else None
    images = drop_own_outputs(images, out)
    plan = plan_outputs(images)
    todo = list(zip(images, plan))
    skipped = 0
    if out is not None:
        check_output_folder(out)
        if args.skip_existing and args.format == "json":
            todo = [(im, p) for im, p in todo if not _done(p, out, args.overlay)]
            skipped = len(images) - len(todo)
            remove_dead_temps_under(out)  # a killed run's atomic writes not yet renamed; nothing else
        check_replaceable(image_outputs_in_place([p for _, p in todo], out, args.format, args.overlay)
                          + _video_outputs_in_place(videos, out, args.overlay), args.overwrite)
    t_start = time.perf_counter()
    aligner = aligner_options(args).build()
    if args.scheme_out and get_scheme(args.scheme_out).name != aligner.scheme.name:
        from facealign.schemes.maps import scheme_map

        scheme_map(aligner.scheme, get_scheme(args.scheme_out))  # an undeclared map stops here, in one line
    stats = {"images": 0, "faces": 0, "no_face": 0, "skipped": skipped, "failed": 0, "failed_videos": 0,
             "frames": 0, "video_faces": 0, "frames_without_face": 0,
             "start_up": time.perf_counter() - t_start}
    t0 = time.perf_counter()
    csv_lock = OutputLock(out / "landmarks.csv") if args.format == "csv" and out is not None and todo else None
    with csv_lock or contextlib.nullcontext():
        csv_rows: list[tuple[str, np.ndarray, tuple[int, np.ndarray, float]]] = []
        interrupted = _predict_images(aligner, todo, out, args, stats, csv_rows)
        if csv_lock is not None and out is not None:
            from facealign.data.readers.tabular import write_landmark_csv

            empty = np.zeros((0, aligner.scheme.num_points, 2), np.float32)  # no face: a header, not a stale file
            write_landmark_csv(out / "landmarks.csv", [k for k, _, _ in csv_rows],
                               np.stack([v for _, v, _ in csv_rows]) if csv_rows else empty, [f for _, _, f in csv_rows])
    elapsed = time.perf_counter() - t0
    stems = _video_stems(videos)
    for v in ([] if interrupted else videos):
        interrupted = _run_video(aligner, v, out, args, stats, stems[v]) or interrupted
    _summary(stats, elapsed, images, videos, out)
    if interrupted:
        print("facealign: interrupted; outputs of finished images are complete", file=sys.stderr)
        return 130
    return 0 if stats["failed"] == 0 and stats["failed_videos"] == 0 else 1


# predict's flags that a Ray run cannot honour (it writes JSON shards of images), with their defaults
RAY_REFUSES = [("--format", "format", "json"), ("--scheme-out", "scheme_out", None), ("--overlay", "overlay", False),
               ("--pose-axes", "pose_axes", False), ("--smooth", "smooth", False), ("--detect-every", "detect_every", 10),
               ("--max-frames", "max_frames", None)]


def _run_on_ray(args: argparse.Namespace) -> int:
    """Folders, files and manifests (``.txt``: one image path per line) on Ray, into shards."""
    if not args.out:
        raise FaceAlignError("--engine ray writes shards: give --out DIR")
    for flag, dest, default in RAY_REFUSES:  # every other flag is honoured there (tests/test_serve.py)
        if getattr(args, dest) != default:
            raise FaceAlignError(f"--engine ray writes shards of predict's JSON records; {flag} is not available "
                                 "there: run without --engine ray")
    try:
        from facealign.distributed import predict_on_ray
    except ImportError as e:
        raise FaceAlignError(f"--engine ray needs its extra: pip install 'facealign[ray]' ({e.name} is missing)") from None
    paths: list[str] = []
    rest = []
    for raw in args.paths:
        if raw.endswith(".txt") and Path(raw).is_file():
            try:
                text = Path(raw).read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as e:
                raise DataError(Path(raw), f"not a UTF-8 text file (byte {e.start} cannot be decoded)") from None
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            missing = [ln for ln in lines if not Path(ln).is_file()]
            if missing:
                raise DataError(Path(raw), f"lists {len(missing)} paths that are not files, e.g. {missing[0]}")
            paths += lines
        else:
            rest.append(raw)
    if rest:
        images, videos = collect(rest, args.recursive)
        if videos:
            raise FaceAlignError(f"{videos[0]}: --engine ray takes images only; run videos without it")
        paths += [str(f) for f, _ in images]
    if not paths:
        raise FaceAlignError("no images to process")
    t0 = time.perf_counter()
    run = predict_on_ray(paths, args.out, aligner_options(args), shard_size=args.shard_size,
                         actors=args.actors, batch_size=args.batch,
                         fmt=args.shard_format, address=args.address, gpus_per_actor=args.gpus_per_actor,
                         overwrite=args.overwrite, verbose=args.verbose)
    say(f"ray: {run.images} images in {len(run.shards_written) + run.shards_skipped} shards; "
        f"{len(run.shards_written)} written, {run.shards_skipped} skipped (done before), {run.failed} unreadable, "
        f"{time.perf_counter() - t0:.1f} s -> {args.out}"
        + ("" if args.verbose or not run.shards_written else "; Ray's own log: facealign_ray.log there"), stderr=True)
    return 0 if run.failed == 0 else 1


def _done(p: ImageOutputs, out: Path, overlay: bool) -> bool:
    return p.json(out).is_file() and (not overlay or p.overlay(out).is_file())


def _video_outputs_in_place(videos: list[str], out: Path, overlay: bool) -> list[tuple[Path, bool]]:
    found = []
    stems = _video_stems(videos)
    for v in videos:
        jsonl, mp4 = _video_paths(out, stems[v])
        ours = is_facealign_jsonl(jsonl) if jsonl.exists() else False
        if jsonl.exists():
            found.append((jsonl, ours))
        if overlay and mp4.exists():
            found.append((mp4, ours))  # an MP4 carries no mark: it is ours when its JSON Lines are
    return found


def _video_paths(out: Path, stem: str) -> tuple[Path, Path]:
    """(JSON Lines, overlay MP4) of a video whose output stem is ``stem`` (:func:`_video_stems`)."""
    return out / f"{stem}.jsonl", out / f"{stem}_overlay.mp4"


def _video_stems(videos: list[str]) -> dict[str, str]:
    """Output stem of each video: the clip's stem, or its whole name where two clips share a stem
    (``clip.mp4`` and ``clip.avi``), as images are. Two clips of one name (from two folders) are refused."""
    def name(v: str) -> str:
        return f"camera{v}" if v.isdigit() else Path(v).name

    def stem(v: str) -> str:
        return f"camera{v}" if v.isdigit() else Path(v).stem

    by_name: dict[str, str] = {}
    for v in videos:
        if by_name.setdefault(name(v), v) != v:
            raise FaceAlignError(f"{by_name[name(v)]} and {v}: both would write {stem(v)}.jsonl under --out (same name "
                                 "under two inputs); run them into separate --out folders")
    stems = [stem(v) for v in videos]
    return {v: s if stems.count(s) == 1 else name(v) for v, s in zip(videos, stems)}


def _predict_images(aligner, todo, out: Path | None, args, stats: dict, csv_rows: list) -> bool:
    """Predict and write every image of ``todo``; True when interrupted (Ctrl-C)."""
    try:
        with progress_bar("predicting", len(todo)) as advance:
            for s in range(0, len(todo), max(1, args.batch)):
                chunk = todo[s:s + args.batch]
                results = _predict_chunk(aligner, [im for im, _ in chunk], stats)
                for ((_, rel), plan), done in zip(chunk, results):
                    if done is None:
                        continue
                    res, image = done
                    if args.scheme_out:
                        res = res.to_scheme(args.scheme_out)
                    stats["images"] += 1
                    stats["faces"] += len(res)
                    stats["no_face"] += len(res) == 0
                    _write_image_outputs(args, out, rel, plan, res, image, csv_rows)
                    advance()
    except KeyboardInterrupt:
        return True
    return False


def _predict_chunk(aligner, chunk: list[tuple[Path, Path]], stats):
    """Predict a batch of images, each decoded once (the overlay draws on the same pixels); an
    unreadable image is reported and skipped, not fatal. Returns (result, image) or None per image."""
    from facealign.data.images import read_image

    images: list = []
    for f, _ in chunk:
        try:
            images.append(read_image(f))
        except DataError as e:
            print(f"facealign: skipped: {e}", file=sys.stderr)
            stats["failed"] += 1
            images.append(None)
    ok = [i for i, im in enumerate(images) if im is not None]
    results = aligner.predict([images[i] for i in ok], sources=[str(chunk[i][0]) for i in ok]) if ok else []
    out: list = [None] * len(chunk)
    for i, res in zip(ok, results):
        out[i] = (res, images[i])
    return out


def _write_image_outputs(args, out: Path | None, rel: Path, plan: ImageOutputs, res, image: np.ndarray,
                         csv_rows) -> None:
    """The outputs of one image; the overlay before the JSON, since the JSON marks the image done."""
    from facealign.predict.draw import draw_result, write_png
    from facealign.utils.io import atomic_write_text

    if out is None:
        print(json.dumps(res.to_json()))
        return
    if args.overlay:
        write_png(plan.overlay(out), draw_result(image, res, axes=args.pose_axes))
    if args.format == "json":
        atomic_write_text(plan.json(out), json.dumps(res.to_json()) + "\n")
    elif args.format == "pts":
        from facealign.data.readers.pts import write_pts
        from facealign.utils.io import atomic_write

        old = plan.old_pts(out)
        for i, lm in enumerate(res.landmarks):
            dest = plan.pts(out, i)
            dest.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(dest, functools.partial(write_pts, points=lm))
        for stale in old[len(res.landmarks):]:  # a previous run found more faces (--overwrite)
            stale.unlink(missing_ok=True)
    elif args.format == "csv":
        csv_rows += [(str(rel), lm, (i, box, float(score)))
                     for i, (lm, box, score) in enumerate(zip(res.landmarks, res.boxes, res.detection_scores))]


def _run_video(aligner, source: str, out: Path | None, args, stats: dict, stem: str) -> bool:
    from facealign.predict.video import process_video

    if out is None:
        raise FaceAlignError(f"{source}: videos need --out (JSON Lines and the annotated MP4 go there)")
    jsonl, mp4 = _video_paths(out, stem)
    with progress_bar(f"video {stem}", 0) as advance:
        summ = process_video(aligner, source, jsonl, mp4 if args.overlay else None,
                             smooth=args.smooth, detect_every=args.detect_every, max_frames=args.max_frames,
                             scheme_out=args.scheme_out,
                             progress=lambda i, n: advance())
    say(f"video {source}: {summ.frames} frames at {summ.fps:.1f} fps, {summ.faces} faces, "
                               f"{summ.frames_without_face} frames without a face, detector ran {summ.detector_runs} "
                               f"times -> {summ.jsonl}" + (f", {summ.video} ({summ.codec})" if summ.video else ""), stderr=True)
    stats["frames"] += summ.frames
    stats["video_faces"] += summ.faces
    stats["frames_without_face"] += summ.frames_without_face
    if summ.frames_stated:
        say(f"facealign: {source}: only {summ.frames} of the {summ.frames_stated} frames its container states could be "
            "decoded (damaged or truncated file); outputs cover those", stderr=True)
        stats["failed_videos"] += 1
    return summ.interrupted


def _summary(stats, elapsed, images, videos, out) -> None:
    from rich.table import Table

    t = Table(title="facealign predict")
    t.add_column("item")
    t.add_column("value", justify="right")
    if images or not videos:  # a run of videos alone reports frames, not "0 images processed"
        t.add_row("images processed", str(stats["images"]))
        if stats["skipped"]:
            t.add_row("skipped (output exists)", str(stats["skipped"]))
        if stats["failed"]:
            t.add_row("unreadable images", str(stats["failed"]))
        t.add_row("faces found", str(stats["faces"]))
        t.add_row("images without a face", str(stats["no_face"]))
    if videos:
        t.add_row("videos", str(len(videos)))
        t.add_row("video frames", str(stats["frames"]))
        t.add_row("faces in video frames", str(stats["video_faces"]))
        t.add_row("frames without a face", str(stats["frames_without_face"]))
    t.add_row("start-up (model and detector)", f"{stats['start_up'] * 1000:.0f} ms")
    if stats["images"]:
        t.add_row("time per image", f"{elapsed / stats['images'] * 1000:.1f} ms")
    if out is not None:
        t.add_row("output", str(out))
    console(stderr=out is None).print(t)
