"""Micro-batching: the landmark stage of requests that arrive together runs as one model pass."""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field

import numpy as np


@dataclass
class _Job:
    image: np.ndarray
    boxes: np.ndarray
    rolls: np.ndarray
    done: asyncio.Future = field(default=None)  # type: ignore[arg-type]  # set by MicroBatcher.landmarks


class MicroBatcher:
    """Collects landmark jobs (one image's face boxes each) for up to ``max_wait_ms`` or
    ``max_batch`` faces, then runs them through ``aligner.align`` in one call on one worker
    thread, so the event loop never waits on the model and one model serves every request.

    ``enabled=False`` runs each job alone (the baseline of ``benchmarks/serve_load.py``).
    """

    def __init__(self, aligner, max_batch: int = 64, max_wait_ms: float = 5.0, enabled: bool = True):
        self.aligner, self.max_batch, self.max_wait = aligner, max(1, max_batch), max(0.0, max_wait_ms) / 1000
        self.enabled = enabled
        self.queue: asyncio.Queue[_Job] | None = None
        self.worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="facealign-model")
        self.task: asyncio.Task | None = None
        self.passes = 0
        self.jobs = 0

    async def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.worker.shutdown(wait=False, cancel_futures=True)

    async def landmarks(self, image: np.ndarray, boxes: np.ndarray, rolls: np.ndarray):
        """(landmarks (N, K, 2), scores (N, K)) of one image's N face boxes."""
        if len(boxes) == 0:
            k = self.aligner.scheme.num_points
            return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
        job = _Job(image, boxes, rolls, asyncio.get_running_loop().create_future())
        assert self.queue is not None, "MicroBatcher.start() was not awaited"
        await self.queue.put(job)
        return await job.done

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.queue is not None
        while True:
            jobs = [await self.queue.get()]
            faces = len(jobs[0].boxes)
            if self.enabled:
                deadline = loop.time() + self.max_wait
                while faces < self.max_batch:
                    timeout = deadline - loop.time()
                    if timeout <= 0:
                        break
                    try:
                        job = await asyncio.wait_for(self.queue.get(), timeout)
                    except TimeoutError:
                        break
                    jobs.append(job)
                    faces += len(job.boxes)
            try:
                results = await loop.run_in_executor(self.worker, self._run, jobs)
            except Exception as e:  # noqa: BLE001 - every waiting request gets the error, the loop lives on
                for j in jobs:
                    if not j.done.done():
                        j.done.set_exception(e)
                continue
            for j, r in zip(jobs, results):
                if not j.done.done():
                    j.done.set_result(r)

    def _run(self, jobs: list[_Job]):
        self.passes += 1
        self.jobs += len(jobs)
        return self.aligner.align([j.image for j in jobs], [j.boxes for j in jobs], rolls=[j.rolls for j in jobs])
