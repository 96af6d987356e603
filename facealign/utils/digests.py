"""File digests everything downloaded or named is pinned by: sha256, and git's blob SHA-1 (the only
digest some authors' repositories give for their files)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

DigestKind = Literal["sha256", "git-blob-sha1"]


def file_digests(path: str | Path) -> tuple[str, str]:
    """The file's sha256 and its git blob SHA-1 (sha1 of ``b"blob <size>\\0"`` followed by its
    bytes, as ``git hash-object`` prints it), from one read."""
    p = Path(path)
    sha256, blob = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % p.stat().st_size)
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha256.update(chunk)
            blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_sha1(path: str | Path) -> str:
    """The file's git blob SHA-1, as ``git hash-object FILE`` prints it."""
    return file_digests(path)[1]


def file_digest(path: str | Path, kind: DigestKind) -> str:
    return sha256_file(path) if kind == "sha256" else git_blob_sha1(path)
