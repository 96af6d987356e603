"""The authors' released checkpoints by name (``h3r-wflw-hrnet18-p1``, ``acr-300w-effb3``):
downloaded on first use from the authors' own repositories, checked against the digest pinned in
``convert/released.json`` before anything unpickles or parses them, converted on this machine (the
ACR licence forbids sharing converted copies, so facealign never ships one) and cached.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from facealign.convert.released import ReleasedCheckpoint, released_by_digest
from facealign.errors import FaceAlignError
from facealign.utils.digests import sha256_file
from facealign.utils.io import atomic_write_text
from facealign.zoo.cache import cache_dir
from facealign.zoo.download import download

if TYPE_CHECKING:
    from facealign.models.landmark_model import LandmarkModel

OFFLINE_ENV = "FACEALIGN_OFFLINE"
# Raised when a conversion changes what it writes: cached conversions of older versions are made anew.
CONVERTER_VERSION = 1


def offline() -> bool:
    """``FACEALIGN_OFFLINE`` set to anything but empty or ``0``: never try the network."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def converted_path(entry: ReleasedCheckpoint) -> Path:
    """Where the converted model of ``entry`` is kept: ``$FACEALIGN_CACHE/released/NAME.safetensors``."""
    return cache_dir() / "released" / f"{entry.name}.safetensors"


def cached_conversion(entry: ReleasedCheckpoint) -> Path | None:
    """The converted file of ``entry`` if it is on this machine, made by this converter from the
    pinned file, and unchanged since (its sha256 is in the record beside it); else None."""
    path = converted_path(entry)
    try:
        record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # missing, damaged or absurdly nested: convert anew
        return None
    if not (isinstance(record, dict) and record.get("source_digest") == entry.digest
            and record.get("converter") == CONVERTER_VERSION and path.is_file()):
        return None
    return path if sha256_file(path) == record.get("sha256") else None


def fetch_released(entry: ReleasedCheckpoint) -> Path:
    """The converted model file of ``entry``: from the cache, or downloaded, checked and converted.

    Raises:
        FaceAlignError: offline (``FACEALIGN_OFFLINE``) or the download failed (one line naming the
            URL and the ``facealign import`` command for a file downloaded by hand); a digest that
            does not match; PyTorch missing for the conversion.
    """
    cached = cached_conversion(entry)
    if cached is not None:
        return cached
    if offline():
        raise FaceAlignError(f"{entry.name}: not on this machine yet, and {OFFLINE_ENV} is set; {by_hand(entry)}")
    size = f"{entry.download_bytes / 1e6:.1f} MB" if entry.download_bytes else "size unknown"
    print(f"facealign: {entry.name}: downloading the authors' file ({size}) from {entry.url} and converting it "
          "on this machine (once)", file=sys.stderr, flush=True)
    try:
        raw = download(entry.url, entry.digest, cache_dir() / "downloads", kind=entry.digest_kind, expected_size=entry.size)
    except FaceAlignError as e:
        raise FaceAlignError(f"{e}; {by_hand(entry)}") from None
    model = _convert(entry, raw)
    path = store_conversion(entry, model)
    raw.unlink(missing_ok=True)  # the converted file is what is used; the record names the source
    return path


def store_conversion(entry: ReleasedCheckpoint, model: "LandmarkModel") -> Path:
    """Cache ``model`` (converted from the pinned file of ``entry``) under ``entry.name``: the model
    file first, then the record that vouches for it, each written atomically."""
    from facealign.models.landmark_model import save_model

    path = converted_path(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, path, dict(model.info))
    record = {"name": entry.name, "source_url": entry.url, "digest_kind": entry.digest_kind,
              "source_digest": entry.digest, "converter": CONVERTER_VERSION, "sha256": sha256_file(path),
              "licence": entry.licence}
    atomic_write_text(path.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    return path


def released_of(model: "LandmarkModel") -> ReleasedCheckpoint | None:
    """The released checkpoint an imported model was converted from, recognised by its digest."""
    info = getattr(model, "info", {}) or {}
    for key in ("source_sha256", "source_git_blob_sha1"):
        entry = released_by_digest(str(info.get(key, "")))
        if entry is not None:
            return entry
    return None


def by_hand(entry: ReleasedCheckpoint) -> str:
    """The way round a machine without the network: download it elsewhere, import it here."""
    return (f"download {entry.url} by hand ({entry.digest_kind} {entry.digest}), then run: facealign import "
            f"{entry.kind} FILE --out {entry.name}.safetensors (that also makes --model {entry.name} work here)")


def _convert(entry: ReleasedCheckpoint, raw: Path) -> "LandmarkModel":
    try:
        from facealign.convert.released import convert_released

        return convert_released(entry, raw)
    except ModuleNotFoundError as e:
        raise FaceAlignError(f"{entry.name}: converting the authors' file needs {e.name} (pip install 'facealign[train]'); "
                             f"the download is kept in {raw.parent}") from None
