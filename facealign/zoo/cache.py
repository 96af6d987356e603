"""Where downloaded and converted models are kept."""

from __future__ import annotations

import os
from pathlib import Path

from facealign.utils.digests import sha256_file

__all__ = ["cache_dir", "sha256_file"]


def cache_dir() -> Path:
    """``$FACEALIGN_CACHE``, or ``~/.cache/facealign``: downloads, exported ONNX files, user model names."""
    return Path(os.environ.get("FACEALIGN_CACHE", Path.home() / ".cache" / "facealign"))
