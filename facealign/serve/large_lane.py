"""Large images are decoded and searched in a process of their own, at lower CPU priority.

YuNet (``yuface``) holds Python's GIL for the whole of each search: in the server's process one
large image's search stops every other thread, the event loop included, for as long as it runs
(a 17-megapixel image: about a second). In a separate process it holds only that process's GIL;
its lower priority (nice 10) leaves the cores to ordinary requests when both want them
(benchmarks/serve_hostile.py, docs/serve.md).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os

import numpy as np

from facealign.errors import FaceAlignError, ImageTooLarge

_ALIGNER = None  # the child process's aligner (its detector and framing; the model is not run there)


def _start_child(model: str, detector: str) -> None:
    global _ALIGNER
    os.nice(10)
    from facealign.predict.aligner import FaceAligner

    _ALIGNER = FaceAligner(model, detector, threads=1)


def detect_encoded(data: bytes, name: str, max_pixels: int):
    """In the child: (Detections, framed boxes (N, 4), rolls (N,)) of an encoded image, or
    ("error", too_large, message): facealign's errors do not survive pickling as themselves."""
    from facealign.data.images import decode_image

    try:
        image = decode_image(np.frombuffer(data, np.uint8), name, max_pixels)
        det = _ALIGNER.detect(image)  # type: ignore[union-attr]
        boxes, rolls = _ALIGNER.frame_faces(det)  # type: ignore[union-attr]
    except FaceAlignError as e:
        return "error", isinstance(e, ImageTooLarge), str(e)
    return det, boxes, rolls


def large_image_lane(model: str, detector: str) -> concurrent.futures.ProcessPoolExecutor:
    """One worker process (started on the first large image, by spawn: nothing of the server's
    threads or sockets is copied into it)."""
    return concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_start_child, initargs=(model, detector))
