"""Landmarks on video: detection every few frames, tracking by the previous frame's landmarks in
between, optional One-Euro smoothing; JSON Lines and an annotated MP4."""

from __future__ import annotations

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


def process_video(aligner: FaceAligner, source: str | int, jsonl: Path | None, video_out: Path | None = None,
                  smooth: bool = False, detect_every: int = 10, max_frames: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> VideoSummary:
    """Run the aligner over a video file or camera index.

    Each frame's faces come from the detector every ``detect_every`` frames (and whenever no
    face is tracked); in between, each face's crop box is the landmark box of its previous
    frame. Outputs are written as frames go, so an interruption leaves complete files
    (JSON Lines with one line per finished frame; an MP4 closed properly).
    """
    cap = open_video(source)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    if not (0 < fps < 1000):
        fps = 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    writer = None
    tmp_video = None
    jfh = None
    if jsonl is not None:
        jsonl.parent.mkdir(parents=True, exist_ok=True)
        jfh = open(jsonl, "w", encoding="utf-8")
    tracks: list[np.ndarray] = []  # previous landmarks per face
    filters: list[OneEuroFilter] = []
    frames = faces = empty = det_runs = 0
    interrupted = False
    try:
        while max_frames is None or frames < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            h, w = rgb.shape[:2]
            if not tracks or frames % max(1, detect_every) == 0:
                det = aligner.detect(rgb)
                det_runs += 1
                boxes = aligner.calibration.apply(det.boxes)
                lms = aligner.align([rgb], [boxes])[0]
                # keep each face's smoothing state when a detection continues a track
                new_filters = []
                for lm in lms[0]:
                    b = landmark_box(lm)
                    match = next((i for i, t in enumerate(tracks) if _iou(landmark_box(t), b) > 0.3), None)
                    new_filters.append(filters[match] if match is not None else OneEuroFilter(fps))
                filters = new_filters
                det_boxes, det_scores = det.boxes, det.scores
            else:
                det_boxes = np.stack([landmark_box(t) for t in tracks])
                lms = aligner.align([rgb], [det_boxes], refine=0)[0]
                det_scores = np.ones(len(tracks), np.float32)
            pts, scores = lms
            if smooth:
                pts = np.stack([f(p) for f, p in zip(filters, pts)]) if len(pts) else pts
            # drop tracks that collapsed or left the frame
            keep = [i for i, p in enumerate(pts) if _plausible(p, w, h)]
            pts, scores = pts[keep], scores[keep]
            det_boxes, det_scores = det_boxes[keep], det_scores[keep]
            filters = [filters[i] for i in keep]
            tracks = list(pts)
            res = FaceResult(det_boxes.astype(np.float32), pts, scores, det_scores.astype(np.float32), aligner.scheme, (h, w))
            if jfh is not None:
                rec = res.to_json()
                rec.pop("image")
                jfh.write(json.dumps({"frame": frames, "time": round(frames / fps, 4), **rec}) + "\n")
                jfh.flush()
            if video_out is not None:
                if writer is None:
                    video_out.parent.mkdir(parents=True, exist_ok=True)
                    tmp_video = video_out.with_name(f".{video_out.stem}.part{os.getpid()}{video_out.suffix}")
                    writer = cv2.VideoWriter(str(tmp_video), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                    if not writer.isOpened():
                        raise FaceAlignError(f"{video_out}: cannot write MP4 (no mp4v encoder in this OpenCV)")
                writer.write(cv2.cvtColor(draw_result(rgb, res, boxes=False), cv2.COLOR_RGB2BGR))
            frames += 1
            faces += len(pts)
            empty += len(pts) == 0
            if progress:
                progress(frames, total)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        cap.release()
        if jfh is not None:
            jfh.close()
        if writer is not None:
            writer.release()
            os.replace(tmp_video, video_out)
    return VideoSummary(frames, faces, empty, det_runs, fps, jsonl, video_out if writer is not None else None, interrupted)


def _plausible(pts: np.ndarray, w: int, h: int) -> bool:
    b = landmark_box(pts)
    side = max(b[2] - b[0], b[3] - b[1])
    inside = (b[2] > 0) and (b[3] > 0) and (b[0] < w) and (b[1] < h)
    return bool(inside and side >= 8 and np.isfinite(pts).all())
