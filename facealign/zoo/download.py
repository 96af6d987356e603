"""Downloads checked against a pinned digest before anything uses them, bounded in size."""

from __future__ import annotations

import http.client
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from facealign.errors import FaceAlignError
from facealign.utils.digests import DigestKind, file_digest
from facealign.utils.io import part_path, remove_dead_parts_of
from facealign.zoo.cache import cache_dir

# Larger than any landmark model (HRNet-W32 weighs 120 MB): a URL that streams more is not one.
MAX_DOWNLOAD_BYTES = 1 << 30


def download(url: str, sha256: str, dest_dir: str | Path | None = None, progress: Callable[[int, int], None] | None = None,
             timeout: float = 60.0, max_bytes: int | None = None, kind: DigestKind = "sha256",
             expected_size: int | None = None) -> Path:
    """Download ``url`` once into the cache, verified against its pinned digest.

    Args:
        sha256: The pinned digest: a sha256, or with ``kind="git-blob-sha1"`` git's object id.
        expected_size: Bytes the file has, where known: more is refused as it arrives, fewer is
            reported as a cut-off download.

    A file already in the cache with the right digest is reused. The download goes to a
    temporary file that becomes the cached file only when its digest matches; on a mismatch,
    an error, Ctrl-C, more than ``max_bytes`` (default ``FACEALIGN_MAX_DOWNLOAD`` or 1 GiB) or
    more bytes than the server announced, it is deleted. Temporary files of killed runs are
    removed on the next download of the same file.
    """
    digest = sha256.lower()
    cap = int(max_bytes or os.environ.get("FACEALIGN_MAX_DOWNLOAD") or MAX_DOWNLOAD_BYTES)
    if expected_size:
        cap = min(cap, expected_size)
    dest_dir = Path(dest_dir) if dest_dir else cache_dir()
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "model"
    dest = dest_dir / f"{digest[:16]}-{name}"
    if dest.is_file() and file_digest(dest, kind) == digest:
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    remove_dead_parts_of(dest)
    tmp = part_path(dest)
    try:
        done, total = _fetch(url, tmp, cap, timeout, progress)
    except (OSError, http.client.HTTPException) as e:  # refused, reset, cut off mid-body, timed out
        tmp.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e or type(e).__name__  # URLError wraps the socket's error
        raise FaceAlignError(f"{url}: download failed ({reason})") from None
    except BaseException:  # our errors, Ctrl-C: no partial file stays in the cache
        tmp.unlink(missing_ok=True)
        raise
    want = expected_size or total
    if want and done < want:
        tmp.unlink(missing_ok=True)
        raise FaceAlignError(f"{url}: download cut off after {done} of {want} bytes; the partial file was discarded")
    got = file_digest(tmp, kind)
    if got != digest:
        tmp.unlink(missing_ok=True)
        raise FaceAlignError(f"{url}: {kind} mismatch (expected {digest}, got {got}); the file was discarded")
    os.replace(tmp, dest)
    return dest


def _fetch(url: str, tmp: Path, cap: int, timeout: float, progress: Callable[[int, int], None] | None) -> tuple[int, int]:
    """Stream ``url`` into ``tmp``, at most ``cap`` bytes. Returns (bytes read, bytes announced or 0)."""
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as fh:
        total = int(resp.headers.get("Content-Length") or 0)
        if total > cap:
            raise FaceAlignError(f"{url}: the server announces {total} bytes, over the {cap}-byte limit "
                                 "(the file's known size, or FACEALIGN_MAX_DOWNLOAD); nothing downloaded")
        done = 0
        while chunk := resp.read(1 << 16):
            done += len(chunk)
            if done > cap or (total and done > total):
                limit = f"the {cap}-byte limit (the file's known size, or FACEALIGN_MAX_DOWNLOAD)" if done > cap \
                    else f"the {total} bytes announced"
                raise FaceAlignError(f"{url}: download stopped: more than {limit}; the partial file was discarded")
            fh.write(chunk)
            if progress:
                progress(done, total)
    return done, total
