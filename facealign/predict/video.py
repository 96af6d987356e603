"""Landmarks on video: detection every few frames, tracking by the previous frame's landmarks in
between, optional One-Euro smoothing; JSON Lines and an annotated MP4."""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facealign.data.images import MAX_PIXELS, check_image_size
from facealign.data.sample import landmark_box
from facealign.errors import FaceAlignError
from facealign.predict.aligner import FaceAligner
from facealign.predict.draw import draw_result
from facealign.predict.result import FaceResult
from facealign.predict.smoothing import OneEuroFilter
from facealign.utils.io import part_path, remove_dead_parts_of

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass
class VideoSummary:
    frames: int
    faces: int
    frames_without_face: int
    detector_runs: int
    fps: float
    jsonl: Path | None
    video: Path | None  # the annotated MP4; codec "h264" (PyAV installed) or "mp4v"
    interrupted: bool = False
    frames_stated: int = 0  # the container's frame count when fewer frames than it states could be decoded
    codec: str = ""  # of the annotated MP4: "h264" (PyAV installed) or "mp4v"


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / area) if area > 0 else 0.0


def open_video(source: str | int) -> cv2.VideoCapture:
    # FFmpeg's own log lines ("moov atom not found") went to stderr beside facealign's one line about
    # the same file; OpenCV reads this when it first opens a video. A user's own setting wins.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    cap = cv2.VideoCapture(int(source) if isinstance(source, int) or str(source).isdigit() else str(source))
    if not cap.isOpened():
        raise FaceAlignError(f"{source}: cannot open video (missing file, unsupported codec or no such camera)")
    return cap


def video_fps(cap: cv2.VideoCapture) -> float:
    """The container's frame rate, or 25 when it states none (or nonsense)."""
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    return fps if 0 < fps < 1000 else 25.0


class _Tracker:
    """Faces followed from frame to frame: each face's landmarks of the previous frame, its
    One-Euro filter and its track id (stable while the face is followed; a new id when a face
    appears)."""

    def __init__(self, aligner: FaceAligner, fps: float, detect_every: int):
        self.aligner, self.fps, self.detect_every = aligner, fps, max(1, detect_every)
        self.tracks: list[np.ndarray] = []
        self.filters: list[OneEuroFilter] = []
        self.ids: list[int] = []  # the id of each entry of self.tracks
        self.motion: list[np.ndarray] = []  # each track's last displacement (2,), pixels per frame
        self.next_id = 0
        self.detector_runs = 0

    def step(self, rgb: np.ndarray, index: int, smooth: bool, t: float | None = None) -> tuple[FaceResult, np.ndarray]:
        """Landmarks of frame ``index`` (at ``t`` seconds) and the (N,) track id of each face:
        detection every ``detect_every`` frames (and whenever no face is tracked), otherwise each
        face re-cropped around its previous landmarks."""
        before = dict(zip(self.ids, self.tracks))  # each id's landmarks in the previous frame
        if not self.tracks or index % self.detect_every == 0:
            boxes, det_scores, (pts, scores) = self._detect(rgb)
        else:
            # constant-velocity guess: where each face will be if it keeps moving as it did
            ahead = np.stack(self.tracks) + np.stack(self.motion)[:, None, :]
            frames, roll = self.aligner.reframe(ahead)
            boxes = np.stack(frames)
            pts, scores = self.aligner.align([rgb], [boxes], refine=0, rolls=[roll])[0]
            det_scores = np.full(len(self.tracks), np.nan, np.float32)  # followed, not detected: no score
        h, w = rgb.shape[:2]
        keep = [i for i, p in enumerate(pts) if _plausible(p, w, h)]  # drop collapsed or departed tracks
        self.filters = [self.filters[i] for i in keep]
        self.ids = [self.ids[i] for i in keep]
        self.motion = [_motion(pts[i], before.get(tid)) for i, tid in zip(keep, self.ids)]
        # the next frame's crops follow the raw landmarks: smoothed ones lag behind a moving face,
        # and cropping around them would let the track fall further behind every frame
        self.tracks = list(pts[keep])
        pts = pts[keep]
        if smooth and len(pts):
            pts = np.stack([f(p, t) for f, p in zip(self.filters, pts)]).astype(np.float32)
        res = FaceResult(boxes[keep].astype(np.float32), pts, scores[keep],
                         det_scores[keep].astype(np.float32), self.aligner.scheme, (h, w))
        return res, np.asarray(self.ids, np.int64)

    def _detect(self, rgb: np.ndarray):
        det, boxes, roll = self.aligner.find_faces(rgb)
        self.detector_runs += 1
        lms = self.aligner.align([rgb], [boxes], rolls=[roll])[0]
        # a detection that overlaps a followed face continues its track (best overlap first, each
        # track once): same id, same smoothing state
        new_filters, new_ids, taken = [], [], set()
        for lm in lms[0]:
            b = landmark_box(lm)
            overlaps = [(_iou(landmark_box(t), b), i) for i, t in enumerate(self.tracks) if i not in taken]
            best = max(overlaps, default=(0.0, None))
            if best[1] is not None and best[0] > 0.3:
                taken.add(best[1])
                new_filters.append(self.filters[best[1]])
                new_ids.append(self.ids[best[1]])
            else:
                new_filters.append(OneEuroFilter(self.fps))
                new_ids.append(self.next_id)
                self.next_id += 1
        self.filters, self.ids = new_filters, new_ids
        return det.image_boxes(), det.scores, lms


def h264_available() -> bool:
    """Whether PyAV (``pip install 'facealign[video]'``) can write H.264, which browsers play."""
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available or "h264" in av.codecs_available


class _VideoWriter:
    """The annotated MP4, written to a temporary name and renamed when complete: H.264 through
    PyAV when installed (browsers play it), else OpenCV's MPEG-4 Part 2 (``mp4v``, which
    desktop players play but browsers do not). Frames keep their timestamps (variable frame
    rate survives) with H.264."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.tmp = part_path(path)
        self.codec = "h264" if h264_available() else "mp4v"
        self.writer: Any = None
        self.last_pts = -1

    def _open(self, w: int, h: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.codec == "h264":
            import av

            self.writer = av.open(str(self.tmp), "w", format="mp4")
            self.stream = self.writer.add_stream("libx264" if "libx264" in av.codecs_available else "h264",
                                                 rate=Fraction(self.fps).limit_denominator(1001))
            self.stream.width, self.stream.height = w - w % 2, h - h % 2  # yuv420p needs even sides
            self.stream.pix_fmt = "yuv420p"
            self.stream.time_base = self.stream.codec_context.time_base = Fraction(1, 1000)
            return
        fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]  # missing from OpenCV's stubs
        self.writer = cv2.VideoWriter(str(self.tmp), fourcc, self.fps, (w, h))
        if not self.writer.isOpened():
            raise FaceAlignError(f"{self.path}: cannot write MP4 (no mp4v encoder in this OpenCV)")

    def write(self, rgb: np.ndarray, res: FaceResult, t: float) -> None:
        if self.writer is None:
            self._open(rgb.shape[1], rgb.shape[0])
        drawn = draw_result(rgb, res, boxes=False)
        if self.codec == "mp4v":
            self.writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
            return
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(drawn[:self.stream.height, :self.stream.width]),
                                           format="rgb24")
        frame.pts = self.last_pts = max(int(round(t * 1000)), self.last_pts + 1)
        frame.time_base = Fraction(1, 1000)
        for packet in self.stream.encode(frame):
            self.writer.mux(packet)

    def close(self, keep: bool = True) -> Path | None:
        if self.writer is None:
            return None
        if self.codec == "h264":
            for packet in self.stream.encode():
                self.writer.mux(packet)
            self.writer.close()
        else:
            self.writer.release()
        return _settle(self.tmp, self.path, keep)


class _JsonlWriter:
    """JSON Lines, one record per frame, under a temporary name until the run ends, so that a
    re-run on a clip that no longer decodes leaves the previous file as it was."""

    def __init__(self, path: Path):
        self.path, self.tmp = path, part_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.tmp, "w", encoding="utf-8")

    def write(self, res: FaceResult, ids: np.ndarray, frame: int, t: float) -> None:
        _write_record(self.fh, res, ids, frame, t)

    def close(self, keep: bool = True) -> Path | None:
        self.fh.close()
        return _settle(self.tmp, self.path, keep)


def _settle(tmp: Path, path: Path, keep: bool) -> Path | None:
    """Rename a finished temporary file into place (``keep``), or delete it; the final path or None."""
    if not keep:
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, path)
    return path


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
            remove_dead_parts_of(out)
    cap = open_video(source)
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if width > 0 and height > 0:
        try:
            check_image_size(width, height, str(source), MAX_FRAME_PIXELS)
        except FaceAlignError:
            cap.release()
            raise
    fps = video_fps(cap)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    tracker = _Tracker(aligner, fps, detect_every)
    camera = str(source).isdigit()
    clock = _Clock(fps, camera)
    reader = _FrameReader(cap, ahead=0 if camera else frames_ahead(width, height), name=str(source))
    writer = _VideoWriter(video_out, fps) if video_out is not None else None
    lines = _JsonlWriter(jsonl) if jsonl is not None else None
    frames = faces = empty = 0
    interrupted = ended = finished = False
    written = written_jsonl = None
    try:
        while max_frames is None or frames < max_frames:
            got = reader.next()
            if got is None:
                ended = True
                break
            rgb, stamp = got
            t = clock.now(stamp, frames)
            res, ids = tracker.step(rgb, frames, smooth, t)
            if scheme_out:
                res = res.to_scheme(scheme_out)
            if lines is not None:
                lines.write(res, ids, frames, t)
            if writer is not None:
                writer.write(rgb, res, t)
            frames += 1
            faces += len(res)
            empty += len(res) == 0
            if progress:
                progress(frames, total)
        finished = True
    except KeyboardInterrupt:
        interrupted = finished = True
    finally:
        reader.close()
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
    short = ended and not camera and total > 0 and frames + max(2, total // 50) < total
    return VideoSummary(frames, faces, empty, tracker.detector_runs, fps, written_jsonl, written, interrupted,
                        total if short else 0, writer.codec if writer is not None and written else "")


# Frames a video file is decoded ahead of the landmark stage, in a thread (OpenCV decodes without
# the GIL), so that decoding overlaps detection and the model instead of adding to them. Cameras
# are read as frames are used: reading ahead would show the landmarks of older frames.
FRAMES_AHEAD = 4
# ... within this many bytes of decoded frames (a 4K frame is 25 MB; an 8K one gets two).
READ_AHEAD_BYTES = 256 * 2**20
# Frames are refused above the image limit, before the first is decoded (their stated size) and
# each as it is decoded (a stream may change size).
MAX_FRAME_PIXELS = MAX_PIXELS


def frames_ahead(width: int, height: int) -> int:
    """How many frames of ``width`` x ``height`` (0 if unknown) to decode ahead: :data:`FRAMES_AHEAD`,
    fewer when they would hold more than :data:`READ_AHEAD_BYTES` (RGB and the decoder's BGR)."""
    frame_bytes = 2 * 3 * max(width, 1) * max(height, 1)
    return max(0, min(FRAMES_AHEAD, READ_AHEAD_BYTES // frame_bytes))


class _FrameReader:
    """(RGB frame, container timestamp in seconds) of each frame of ``cap``, in order; None at the
    end. With ``ahead`` > 0 a thread decodes up to that many frames ahead. ``name`` (the source)
    names it in the error of a frame over :data:`MAX_FRAME_PIXELS`."""

    def __init__(self, cap: cv2.VideoCapture, ahead: int, name: str = "video"):
        self.cap, self.name = cap, name
        self.queue: queue.Queue | None = None
        if ahead > 0:
            self.queue = queue.Queue(maxsize=ahead)
            self.stop = threading.Event()
            self.thread = threading.Thread(target=self._fill, name="facealign-video-reader", daemon=True)
            self.thread.start()

    def _read(self) -> tuple[np.ndarray, float] | None:
        ok, bgr = self.cap.read()
        if not ok:
            return None
        check_image_size(bgr.shape[1], bgr.shape[0], self.name, MAX_FRAME_PIXELS)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0

    def _fill(self) -> None:
        assert self.queue is not None
        try:
            while not self.stop.is_set():
                item = self._read()
                self._put(item)
                if item is None:
                    return
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(e)

    def _put(self, item: object) -> None:
        assert self.queue is not None
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> tuple[np.ndarray, float] | None:
        if self.queue is None:
            return self._read()
        item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        """Stop the thread (before the capture is released: it may be decoding)."""
        if self.queue is not None:
            self.stop.set()
            self.thread.join()


class _Clock:
    """Each frame's time in seconds: the container's timestamp (``CAP_PROP_POS_MSEC``), which
    follows variable frame rates (phone videos); frame / fps for cameras and for containers whose
    timestamps do not advance."""

    def __init__(self, fps: float, camera: bool):
        self.fps, self.camera = fps, camera
        self.last: float | None = None

    def now(self, stamp: float, index: int) -> float:
        """Seconds of frame ``index`` whose container timestamp is ``stamp`` seconds."""
        t = index / self.fps
        if not self.camera:
            if np.isfinite(stamp) and stamp >= 0 and (self.last is None or stamp > self.last):
                t = stamp
            elif self.last is not None:
                t = self.last + 1.0 / self.fps
        self.last = t
        return t


def _write_record(fh, res: FaceResult, ids: np.ndarray, frame: int, t: float) -> None:
    rec = res.to_json()
    rec.pop("image")
    for face, track in zip(rec["faces"], ids):
        face["track_id"] = int(track)
    fh.write(json.dumps({"frame": frame, "time": round(t, 4), **rec}) + "\n")
    fh.flush()


def _motion(now: np.ndarray, before: np.ndarray | None) -> np.ndarray:
    """(2,) displacement of a face since the previous frame, 0 when within jitter: a still face's
    landmarks wander about 0.3 % of the eye distance per frame (docs/inference.md), and carrying
    that wander forward into the next crop would add to it."""
    if before is None:
        return np.zeros(2)
    d = now.mean(0) - before.mean(0)
    b = landmark_box(now)
    return d if np.hypot(*d) > 0.02 * max(b[2] - b[0], b[3] - b[1]) else np.zeros(2)


def _plausible(pts: np.ndarray, w: int, h: int) -> bool:
    b = landmark_box(pts)
    side = max(b[2] - b[0], b[3] - b[1])
    inside = (b[2] > 0) and (b[3] > 0) and (b[0] < w) and (b[1] < h)
    return bool(inside and side >= 8 and np.isfinite(pts).all())
