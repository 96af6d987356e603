"""Settings of the HTTP service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServeConfig:
    """What ``facealign serve`` runs and accepts.

    Attributes:
        model, detector: As for :class:`facealign.FaceAligner`.
        host, port: Where to listen; 127.0.0.1 unless asked (the service takes uploads only and
            never fetches URLs, but it has no authentication).
        max_upload_bytes: Larger request bodies get 413 before they are read in full.
        max_pixels: Larger images get 413 from their header, before decoding.
        batching: Requests that arrive together share one landmark pass (up to ``max_batch``
            faces, waiting at most ``max_wait_ms`` for company); off: one pass per request.
        threads: Threads of the landmark stage (None: the runtime's default).
    """

    model: str = "default"
    detector: str = "auto"
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    batching: bool = True
    max_batch: int = 64
    max_wait_ms: float = 5.0
    threads: int | None = None
