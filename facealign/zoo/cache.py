"""Where downloaded and converted models are kept, and the one file digest everything is pinned by."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir() -> Path:
    """``$FACEALIGN_CACHE``, or ``~/.cache/facealign``: downloads, exported ONNX files, user model names."""
    return Path(os.environ.get("FACEALIGN_CACHE", Path.home() / ".cache" / "facealign"))


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
