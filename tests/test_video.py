"""Video: container timestamps (variable frame rate), One-Euro on real time steps, track ids of
faces that cross, and the browser-playable H.264 overlay."""

from __future__ import annotations

import json
from fractions import Fraction

import cv2
import numpy as np
import pytest
from conftest import YTF

from facealign.cli.main import main
from facealign.predict.smoothing import OneEuroFilter
from facealign.predict.video import h264_available

needs_av = pytest.mark.skipif(not h264_available(), reason="PyAV with H.264 not installed (pip install 'facealign[video]')")


def _face_tile(path, side: int = 150) -> np.ndarray:
    """A square BGR tile around the face of a YTF-68 val frame."""
    from facealign.data import load_dataset

    val = load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")
    s = next(x for x in val.samples if x.key == path)
    img = cv2.imread(str(s.image))
    b = s.landmark_box()
    c, half = (b[:2] + b[2:]) / 2, 0.8 * max(b[2] - b[0], b[3] - b[1])
    m = np.float32([[side / (2 * half), 0, side / 2 - c[0] * side / (2 * half)],
                    [0, side / (2 * half), side / 2 - c[1] * side / (2 * half)]])
    return cv2.warpAffine(img, m, (side, side), borderMode=cv2.BORDER_REPLICATE)


def _two_val_keys() -> list[str]:
    from facealign.data import load_dataset

    val = load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")
    people = {}
    for s in val.samples:
        people.setdefault(s.key.rsplit("_", 1)[0], s.key)
    return sorted(people.values())[:2]


def test_track_ids_follow_two_faces_that_cross(tmp_path):
    """Face A moves right along the top, face B left along the bottom; they pass each other
    half-way. Each keeps its track id through all 30 frames and three detector runs."""
    a, b = (_face_tile(k) for k in _two_val_keys())
    n, side, w, h = 30, 150, 560, 340
    clip = tmp_path / "cross.mp4"
    vw = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (w, h))
    xs = np.linspace(10, w - side - 10, n).round().astype(int)
    for i in range(n):
        frame = np.full((h, w, 3), 110, np.uint8)
        frame[15:15 + side, xs[i]:xs[i] + side] = a
        frame[h - side - 15:h - 15, xs[n - 1 - i]:xs[n - 1 - i] + side] = b
        vw.write(frame)
    vw.release()
    out = tmp_path / "o"
    assert main(["predict", str(clip), "--out", str(out), "--detect-every", "10", "--smooth"]) == 0
    recs = [json.loads(x) for x in (out / "cross.jsonl").read_text().splitlines()]
    assert len(recs) == n
    ids_top, ids_bottom = set(), set()
    for r in recs:
        assert len(r["faces"]) == 2
        for f in r["faces"]:
            y = np.array(f["landmarks"])[:, 1].mean()
            (ids_top if y < h / 2 else ids_bottom).add(f["track_id"])
    assert len(ids_top) == 1 and len(ids_bottom) == 1 and ids_top != ids_bottom


@needs_av
def test_variable_frame_rate_timestamps_and_h264_overlay(tmp_path):
    import av

    tile = cv2.cvtColor(_face_tile(_two_val_keys()[0], 160), cv2.COLOR_BGR2RGB)
    clip = tmp_path / "vfr.mp4"
    ticks, t = [], 0  # in 1/30 s, the container's time base
    with av.open(str(clip), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 160, 160, "yuv420p"
        s.time_base = s.codec_context.time_base = Fraction(1, 30)
        for i in range(12):  # 30 fps and 10 fps in turn, as phones record
            f = av.VideoFrame.from_ndarray(np.roll(tile, i, axis=1), format="rgb24")
            f.pts, f.time_base = t, Fraction(1, 30)
            ticks.append(t)
            for p in s.encode(f):
                c.mux(p)
            t += 1 if i % 2 == 0 else 3
        for p in s.encode():
            c.mux(p)
    times_ms = np.array(ticks) * 1000 / 30
    out = tmp_path / "o"
    assert main(["predict", str(clip), "--out", str(out), "--overlay", "--smooth"]) == 0
    recs = [json.loads(x) for x in (out / "vfr.jsonl").read_text().splitlines()]
    got = np.array([r["time"] for r in recs]) * 1000
    np.testing.assert_allclose(got, times_ms, atol=1.0)  # not frame / fps, which drifts by 40 % here
    with av.open(str(out / "vfr_overlay.mp4")) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        pts = [float(f.pts * f.time_base) * 1000 for f in c.decode(stream)]
    np.testing.assert_allclose(pts, times_ms, atol=1.0)


def test_one_euro_uses_the_real_time_step():
    """Given timestamps, the filter equals one built for that frame rate; a frame arriving late
    moves the estimate further than one arriving on time."""
    rng = np.random.default_rng(0)
    xs = 50 + rng.normal(0, 1, (40, 2))
    f10, ft = OneEuroFilter(10), OneEuroFilter(30)
    a = np.array([f10(x) for x in xs])
    b = np.array([ft(x, t=i * 0.1) for i, x in enumerate(xs)])
    np.testing.assert_allclose(a, b, atol=1e-5)
    on_time, late = OneEuroFilter(30), OneEuroFilter(30)
    for f in (on_time, late):
        f(np.zeros(2), t=0.0)
    assert np.abs(late(np.full(2, 10.0), t=0.3)).max() > np.abs(on_time(np.full(2, 10.0), t=1 / 30)).max()


def _numbered_clip(path, frames: int = 12) -> None:
    """An MJPG clip whose frame i is a flat grey of level 20 * i (each frame told apart by its pixels)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(frames):
        w.write(np.full((48, 64, 3), 20 * i % 250, np.uint8))
    w.release()


def test_frames_decoded_ahead_come_in_order_with_their_timestamps(tmp_path):
    """The reader thread gives the same frames and container timestamps as reading in turn, ends
    with None, and is stopped by close() before the clip ends."""
    import threading

    from facealign.predict.video import _FrameReader, open_video

    clip = tmp_path / "clip.avi"
    _numbered_clip(clip)
    runs = {}
    for ahead in (0, 4):
        cap = open_video(str(clip))
        reader = _FrameReader(cap, ahead)
        got = []
        while (item := reader.next()) is not None:
            got.append((int(item[0].mean().round()), round(item[1], 4)))
        reader.close()
        cap.release()
        runs[ahead] = got
    assert runs[0] == runs[4] and len(runs[0]) == 12
    assert all(abs(level - 20 * i) <= 2 for i, (level, _) in enumerate(runs[0]))  # in order (JPEG moves a level by 1)
    cap = open_video(str(clip))
    reader = _FrameReader(cap, 2)
    assert reader.next() is not None
    reader.close()  # the thread waits on a full queue: close must still end it
    cap.release()
    assert not any(t.name == "facealign-video-reader" and t.is_alive() for t in threading.enumerate())


def test_a_decoding_error_in_the_reader_thread_reaches_the_caller():
    from facealign.predict.video import _FrameReader

    class Broken:
        def read(self):
            raise cv2.error("broken stream")

    reader = _FrameReader(Broken(), 4)  # type: ignore[arg-type]
    with pytest.raises(cv2.error, match="broken stream"):
        reader.next()
    reader.close()


def test_frames_ahead_are_bounded_by_their_size():
    from facealign.predict.video import FRAMES_AHEAD, frames_ahead

    assert frames_ahead(640, 480) == FRAMES_AHEAD and frames_ahead(0, 0) == FRAMES_AHEAD
    assert frames_ahead(7680, 4320) == 1  # 8K: ~200 MB a frame as BGR and RGB
    assert frames_ahead(20000, 4000) == 0  # read as used


def test_a_video_over_the_frame_limit_is_refused_in_one_line(tmp_path, small_model, capsys, monkeypatch):
    """The stated frame size is checked before any frame is decoded; nothing is written."""
    import facealign.predict.video as video

    clip = tmp_path / "clip.avi"
    _numbered_clip(clip)
    monkeypatch.setattr(video, "MAX_FRAME_PIXELS", 64 * 48 - 1)
    out = tmp_path / "out"
    assert main(["predict", str(clip), "--model", str(small_model), "--out", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "clip.avi" in err[0] and "64x48 pixels, over the limit" in err[0], err
    assert not out.exists() or not any(out.iterdir())
