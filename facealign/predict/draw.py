"""Overlays: landmarks and the scheme's contour lines on an image."""

from __future__ import annotations

import cv2
import numpy as np

from facealign.predict.result import FaceResult

_COLOURS = [(255, 80, 80), (80, 220, 80), (80, 160, 255), (255, 200, 60), (220, 80, 220), (60, 220, 220),
            (255, 140, 0), (160, 120, 255), (140, 255, 140), (255, 255, 255)]


def draw_result(image: np.ndarray, result: FaceResult, boxes: bool = True, axes: bool = False) -> np.ndarray:
    """An RGB copy of ``image`` with each face's box, contour lines (per scheme group, closed
    where the group is) and points; with ``axes``, each head's pose as three axes from the nose
    (x red to the face's left side on screen, y green down, z blue out of the face)."""
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    th = max(1, round(max(h, w) / 500))
    sch = result.scheme
    for box, pts in zip(result.boxes, result.landmarks):
        side = max(box[2] - box[0], box[3] - box[1], 1)
        r = max(1, int(round(side / 90)))
        if boxes:
            cv2.rectangle(out, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), (255, 255, 0), th, cv2.LINE_AA)
        for gi, (gname, idx) in enumerate(sch.groups.items()):
            colour = _COLOURS[gi % len(_COLOURS)]
            poly = np.round(pts[list(idx)] * 16).astype(np.int32)
            if len(idx) > 1:
                cv2.polylines(out, [poly], gname in sch.closed_groups, colour, th, cv2.LINE_AA, shift=4)
        for x, y in pts:
            cv2.circle(out, (int(round(x * 16)), int(round(y * 16))), r * 16, (255, 255, 255), -1, cv2.LINE_AA, shift=4)
    if axes:
        _draw_axes(out, result, th)
    return out


def _draw_axes(out: np.ndarray, result: FaceResult, th: int) -> None:
    from facealign.pose.solve import camera_matrix, face_model_3d

    pose = result.pose()
    cam = camera_matrix(result.image_size)
    nose = face_model_3d()[30]
    ends = nose + np.array([[0, 0, 0], [60, 0, 0], [0, 60, 0], [0, 0, -60]], np.float64)  # mm; z out of the face
    for rvec, tvec in zip(pose.rotation, pose.translation):
        if not (np.isfinite(rvec).all() and np.isfinite(tvec).all()):
            continue
        pts, _ = cv2.projectPoints(ends, rvec.astype(np.float64), tvec.astype(np.float64), cam, None)
        o, *tips = np.round(pts.reshape(-1, 2) * 16).astype(np.int32)
        for tip, colour in zip(tips, ((255, 40, 40), (40, 220, 40), (60, 120, 255))):
            cv2.arrowedLine(out, tuple(int(v) for v in o), tuple(int(v) for v in tip), colour, th + 1, cv2.LINE_AA,
                            shift=4, tipLength=0.15)


def write_png(path, rgb: np.ndarray) -> None:
    """Write an RGB image as PNG atomically."""
    from facealign.utils.io import atomic_write_bytes

    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode PNG for {path}")
    atomic_write_bytes(path, mark_png(buf.tobytes()))


# a tEXt chunk naming the writer, so that a re-run knows the overlay is its own to replace
PNG_MARK = b"Software\x00facealign"


def mark_png(png: bytes) -> bytes:
    """``png`` with a ``tEXt`` chunk ``Software: facealign`` after its header chunk."""
    import struct
    import zlib

    chunk = struct.pack(">I", len(PNG_MARK)) + b"tEXt" + PNG_MARK + struct.pack(">I", zlib.crc32(b"tEXt" + PNG_MARK))
    end_of_ihdr = 8 + 4 + 4 + 13 + 4
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]
