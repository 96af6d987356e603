"""Landmarks on video: detection every few frames, tracking by the previous frame's landmarks in
between, optional One-Euro smoothing; JSON Lines and an annotated MP4."""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facealign.data.sample import landmark_box
from facealign.errors import FaceAlignError
from facealign.predict.aligner import FaceAligner
from facealign.predict.draw import draw_result
from facealign.predict.result import FaceResult
from facealign.predict.smoothing import OneEuroFilter
from facealign.utils.io import pid_alive

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass
class VideoSummary:
    frames: int
    faces: int
    frames_without_face: int
    detector_runs: int
    fps: float
    jsonl: Path | None
    video: Path | None
    interrupted: bool = False
    frames_stated: int = 0  # the container's frame count when fewer frames than it states could be decoded


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / area) if area > 0 else 0.0


def open_video(source: str | int) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(int(source) if isinstance(source, int) or str(source).isdigit() else str(source))
    if not cap.isOpened():
        raise FaceAlignError(f"{source}: cannot open video (missing file, unsupported codec or no such camera)")
    return cap


def video_fps(cap: cv2.VideoCapture) -> float:
    """The container's frame rate, or 25 when it states none (or nonsense)."""
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    return fps if 0 < fps < 1000 else 25.0


class _Tracker:
    """Faces followed from frame to frame: each face's landmarks of the previous frame and its
    One-Euro filter."""

    def __init__(self, aligner: FaceAligner, fps: float, detect_every: int):
        self.aligner, self.fps, self.detect_every = aligner, fps, max(1, detect_every)
        self.tracks: list[np.ndarray] = []
        self.filters: list[OneEuroFilter] = []
        self.detector_runs = 0

    def step(self, rgb: np.ndarray, index: int, smooth: bool) -> FaceResult:
        """Landmarks of frame ``index``: detection every ``detect_every`` frames (and whenever no
        face is tracked), otherwise each face re-cropped around its previous landmarks."""
        if not self.tracks or index % self.detect_every == 0:
            boxes, det_scores, (pts, scores) = self._detect(rgb)
        else:
            frames, roll = self.aligner.reframe(np.stack(self.tracks))
            boxes = np.stack(frames)
            pts, scores = self.aligner.align([rgb], [boxes], refine=0, rolls=[roll])[0]
            det_scores = np.ones(len(self.tracks), np.float32)
        if smooth and len(pts):
            pts = np.stack([f(p) for f, p in zip(self.filters, pts)])
        h, w = rgb.shape[:2]
        keep = [i for i, p in enumerate(pts) if _plausible(p, w, h)]  # drop collapsed or departed tracks
        self.filters = [self.filters[i] for i in keep]
        self.tracks = list(pts[keep])
        return FaceResult(boxes[keep].astype(np.float32), pts[keep], scores[keep],
                          det_scores[keep].astype(np.float32), self.aligner.scheme, (h, w))

    def _detect(self, rgb: np.ndarray):
        det = self.aligner.detect(rgb)
        self.detector_runs += 1
        boxes, roll = self.aligner.frame_faces(det)
        lms = self.aligner.align([rgb], [boxes], rolls=[roll])[0]
        # keep each face's smoothing state when a detection continues a track
        new_filters = []
        for lm in lms[0]:
            b = landmark_box(lm)
            match = next((i for i, t in enumerate(self.tracks) if _iou(landmark_box(t), b) > 0.3), None)
            new_filters.append(self.filters[match] if match is not None else OneEuroFilter(self.fps))
        self.filters = new_filters
        return det.image_boxes(), det.scores, lms


def part_name(path: Path) -> Path:
    """The temporary name a file is written under until complete (this process's PID in it)."""
    return path.with_name(f".{path.stem}.part{os.getpid()}{path.suffix}")


def remove_stale_parts(path: Path) -> list[Path]:
    """Delete the temporary files of ``path`` left by runs that were killed (their PID is gone)."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.stem)}.part*{glob.escape(path.suffix)}"):
        pid = tmp.name[len(path.stem) + 6:len(tmp.name) - len(path.suffix)]
        if pid.isdigit() and not pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


class _VideoWriter:
    """The annotated MP4, written to a temporary name and renamed when complete."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.tmp = part_name(path)
        self.writer: cv2.VideoWriter | None = None

    def write(self, rgb: np.ndarray, res: FaceResult) -> None:
        if self.writer is None:
            h, w = rgb.shape[:2]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self.writer.isOpened():
                raise FaceAlignError(f"{self.path}: cannot write MP4 (no mp4v encoder in this OpenCV)")
        self.writer.write(cv2.cvtColor(draw_result(rgb, res, boxes=False), cv2.COLOR_RGB2BGR))

    def close(self, keep: bool = True) -> Path | None:
        if self.writer is None:
            return None
        self.writer.release()
        if not keep:
            self.tmp.unlink(missing_ok=True)
            return None
        os.replace(self.tmp, self.path)
        return self.path


class _JsonlWriter:
    """JSON Lines, one record per frame, under a temporary name until the run ends, so that a
    re-run on a clip that no longer decodes leaves the previous file as it was."""

    def __init__(self, path: Path):
        self.path, self.tmp = path, part_name(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.tmp, "w", encoding="utf-8")

    def write(self, res: FaceResult, frame: int, fps: float) -> None:
        _write_record(self.fh, res, frame, fps)

    def close(self, keep: bool = True) -> Path | None:
        self.fh.close()
        if not keep:
            self.tmp.unlink(missing_ok=True)
            return None
        os.replace(self.tmp, self.path)
        return self.path


def process_video(aligner: FaceAligner, source: str | int, jsonl: Path | None, video_out: Path | None = None,
                  smooth: bool = False, detect_every: int = 10, max_frames: int | None = None,
                  progress: Callable[[int, int], None] | None = None, scheme_out: str | None = None) -> VideoSummary:
    """Run the aligner over a video file or camera index.

    Each frame's faces come from the detector every ``detect_every`` frames (and whenever no
    face is tracked); in between, each face's crop box is the landmark box of its previous
    frame. ``scheme_out``: write the points in that scheme (a declared map). Outputs are written
    as frames go, so an interruption leaves complete files
    (JSON Lines with one line per finished frame; an MP4 closed properly).
    """
    for out in (jsonl, video_out):
        if out is not None:
            remove_stale_parts(out)
    cap = open_video(source)
    fps = video_fps(cap)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    tracker = _Tracker(aligner, fps, detect_every)
    writer = _VideoWriter(video_out, fps) if video_out is not None else None
    lines = _JsonlWriter(jsonl) if jsonl is not None else None
    frames = faces = empty = 0
    interrupted = ended = finished = False
    written = written_jsonl = None
    try:
        while max_frames is None or frames < max_frames:
            ok, bgr = cap.read()
            if not ok:
                ended = True
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            res = tracker.step(rgb, frames, smooth)
            if scheme_out:
                res = res.to_scheme(scheme_out)
            if lines is not None:
                lines.write(res, frames, fps)
            if writer is not None:
                writer.write(rgb, res)
            frames += 1
            faces += len(res)
            empty += len(res) == 0
            if progress:
                progress(frames, total)
        finished = True
    except KeyboardInterrupt:
        interrupted = finished = True
    finally:
        cap.release()
        # an error, or a clip that gave no frame, leaves the previous outputs as they were
        keep = finished and frames > 0
        if lines is not None:
            written_jsonl = lines.close(keep)
        if writer is not None:
            written = writer.close(keep)
    if frames == 0 and not interrupted:
        raise FaceAlignError(f"{source}: no frame could be decoded (damaged file or unsupported codec); "
                             "nothing written")
    # containers may state the frame count a little off; a real shortfall is a decoding failure
    short = ended and not str(source).isdigit() and total > 0 and frames + max(2, total // 50) < total
    return VideoSummary(frames, faces, empty, tracker.detector_runs, fps, written_jsonl, written, interrupted,
                        total if short else 0)


def _write_record(fh, res: FaceResult, frame: int, fps: float) -> None:
    rec = res.to_json()
    rec.pop("image")
    fh.write(json.dumps({"frame": frame, "time": round(frame / fps, 4), **rec}) + "\n")
    fh.flush()


def _plausible(pts: np.ndarray, w: int, h: int) -> bool:
    b = landmark_box(pts)
    side = max(b[2] - b[0], b[3] - b[1])
    inside = (b[2] > 0) and (b[3] > 0) and (b[0] < w) and (b[1] < h)
    return bool(inside and side >= 8 and np.isfinite(pts).all())
