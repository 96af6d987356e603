"""Downloads checked against a pinned sha256 before anything uses them, bounded in size."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from facealign.errors import FaceAlignError
from facealign.utils.io import part_path, remove_dead_parts_of
from facealign.zoo.cache import cache_dir, sha256_file

# Larger than any landmark model (HRNet-W32 weighs 120 MB): a URL that streams more is not one.
MAX_DOWNLOAD_BYTES = 1 << 30


def download(url: str, sha256: str, dest_dir: str | Path | None = None, progress: Callable[[int, int], None] | None = None,
             timeout: float = 60.0, max_bytes: int | None = None) -> Path:
    """Download ``url`` once into the cache, verified against ``sha256``.

    A file already in the cache with the right digest is reused. The download goes to a
    temporary file that becomes the cached file only when its digest matches; on a mismatch,
    an error, Ctrl-C, more than ``max_bytes`` (default ``FACEALIGN_MAX_DOWNLOAD`` or 1 GiB) or
    more bytes than the server announced, it is deleted. Temporary files of killed runs are
    removed on the next download of the same file.
    """
    sha256 = sha256.lower()
    cap = int(max_bytes or os.environ.get("FACEALIGN_MAX_DOWNLOAD") or MAX_DOWNLOAD_BYTES)
    dest_dir = Path(dest_dir) if dest_dir else cache_dir()
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "model"
    dest = dest_dir / f"{sha256[:16]}-{name}"
    if dest.is_file() and sha256_file(dest) == sha256:
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    remove_dead_parts_of(dest)
    tmp = part_path(dest)
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as fh:
            total = int(resp.headers.get("Content-Length") or 0)
            if total > cap:
                raise FaceAlignError(f"{url}: the server announces {total} bytes, over the {cap}-byte limit "
                                     "(FACEALIGN_MAX_DOWNLOAD); nothing downloaded")
            done = 0
            while chunk := resp.read(1 << 16):
                done += len(chunk)
                if done > cap or (total and done > total):
                    limit = f"the {cap}-byte limit (FACEALIGN_MAX_DOWNLOAD)" if done > cap else f"the {total} bytes announced"
                    raise FaceAlignError(f"{url}: download stopped: more than {limit}; the partial file was discarded")
                fh.write(chunk)
                h.update(chunk)
                if progress:
                    progress(done, total)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise FaceAlignError(f"{url}: download failed ({e})") from None
    except BaseException:  # our errors, Ctrl-C: no partial file stays in the cache
        tmp.unlink(missing_ok=True)
        raise
    if h.hexdigest() != sha256:
        tmp.unlink(missing_ok=True)
        raise FaceAlignError(f"{url}: sha256 mismatch (expected {sha256}, got {h.hexdigest()}); the file was discarded")
    os.replace(tmp, dest)
    return dest
