"""Settings of the HTTP service."""

from __future__ import annotations

from dataclasses import dataclass, field

from facealign.predict.options import AlignerOptions


@dataclass
class ServeConfig:
    """What ``facealign serve`` runs and accepts.

    Attributes:
        aligner: The aligner's options (model, detector, search, refine, flip, backend, threads),
            as for ``facealign predict``.
        host, port: Where to listen; 127.0.0.1 unless asked (the service takes uploads only and
            never fetches URLs, but it has no authentication).
        max_upload_bytes: Larger request bodies get 413 before they are read in full.
        max_pixels: Larger images get 413 from their header, before decoding.
        large_image_pixels: Images over this many pixels (by their header) are searched one at a
            time in a process of lower CPU priority (:mod:`facealign.serve.large_lane`): a stream
            of them cannot starve the ordinary requests (benchmarks/serve_hostile.py).
        batching: Requests that arrive together share one landmark pass (up to ``max_batch``
            faces, waiting at most ``max_wait_ms`` for company); off: one pass per request.
        workers: Threads that decode and detect (each with its own detector, none waits on
            another's lock); a slow image holds one of them, not the others.
        max_inflight: Requests admitted at once; more get 503 at once instead of a growing queue.
        request_timeout_s: A request not answered in this time gets 504 (its work is bounded by
            the pixel limits, so the thread still finishes).
        body_timeout_s: An upload not received in full in this time gets 408 (slow clients).
        allow_origins: Web origins (``https://app.example``) whose pages may call the API; any
            other page's request (a browser sends its Origin) gets 403.
        allow_hosts: Host names accepted besides the bound address and loopback names (a Host
            check stops DNS rebinding); ignored when bound to all interfaces.
    """

    aligner: AlignerOptions = field(default_factory=AlignerOptions)
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    large_image_pixels: int = 4_000_000
    batching: bool = True
    max_batch: int = 64
    max_wait_ms: float = 5.0
    workers: int = 4
    max_inflight: int = 32
    request_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
