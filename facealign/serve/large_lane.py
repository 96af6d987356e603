"""Large images are answered whole in a process of their own, at the lowest CPU priority.

YuNet (``yuface``) holds Python's GIL for the whole of each search: in the server's process one
large image's search stops every other thread, the event loop included, for as long as it runs
(a 17-megapixel image: about a second). In a separate process it holds only that process's GIL;
nice 19 leaves the cores to ordinary requests when both want them, and the server's process never
decodes a large image (benchmarks/serve_hostile.py, docs/serve.md).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
import time

import numpy as np

from facealign.errors import FaceAlignError, ImageTooLarge
from facealign.predict.options import AlignerOptions

_ALIGNER = None  # the child process's aligner: the server's model and detector, loaded once
# How often the child looks whether the server is still there.
PARENT_POLL_S = 0.5


def _start_child(options: dict, parent: int) -> None:
    global _ALIGNER
    os.nice(19)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="facealign-lane-watchdog").start()
    _ALIGNER = AlignerOptions.from_dict(options).replace(threads=1).build()


def _exit_with_parent(parent: int) -> None:
    """End the child when the server's process is gone: a server killed (or stopped before its
    shutdown reached the pool) left the child waiting on its queue for ever, holding a model's
    memory (found as orphans after the test suite's server runs)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def answer_encoded(data: bytes, name: str | None, max_pixels: int) -> tuple[str, bool, str] | dict:
    """In the child: the JSON answer for an encoded image (as the server's own path gives it), or
    ("error", too_large, message): facealign's errors do not survive pickling as themselves."""
    from facealign.data.images import decode_image

    try:
        image = decode_image(np.frombuffer(data, np.uint8), name or "upload", max_pixels)
        res = _ALIGNER.predict(image)  # type: ignore[union-attr]
    except FaceAlignError as e:
        return "error", isinstance(e, ImageTooLarge), str(e)
    body = res.to_json()
    body["image"] = name
    return body


def large_image_lane(options: AlignerOptions) -> concurrent.futures.ProcessPoolExecutor:
    """One worker process (started on the first large image, by spawn: nothing of the server's
    threads or sockets is copied into it)."""
    return concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_start_child, initargs=(options.to_dict(), os.getpid()))
