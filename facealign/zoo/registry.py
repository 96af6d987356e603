"""The registry of named models: the bundled ones (``models.json`` beside this file), the names
given to model files on this machine, and how a name, a path or a URL resolves to a verified file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facealign.convert.released import ReleasedCheckpoint, released_checkpoints
from facealign.errors import FaceAlignError
from facealign.zoo.cache import cache_dir, sha256_file
from facealign.zoo.download import download
from facealign.zoo.released import fetch_released

REGISTRY = Path(__file__).with_name("models.json")
WEIGHTS = Path(__file__).with_name("weights")


@dataclass(frozen=True)
class ZooEntry:
    """One named model.

    Attributes:
        name: Registry name. file: Bundled file name (in ``facealign/zoo/weights``) or None.
        url: Download address or None. sha256: Expected digest of the file ("" for a released
            checkpoint: its source file is pinned in ``released`` instead).
        description, metrics: Free text and measured numbers (with the data they were measured on).
        released: One of the authors' released checkpoints, downloaded and converted on first use.
    """

    name: str
    sha256: str
    file: str | None = None
    url: str | None = None
    onnx_file: str | None = None
    onnx_sha256: str | None = None
    onnx_int8_file: str | None = None  # the int8 copy (tools/bundle_onnx.py --int8), for CPUs with int8 dot products
    onnx_int8_sha256: str | None = None
    description: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    path: str | None = None  # a user entry: a model file on this machine (``register_user_model``)
    released: ReleasedCheckpoint | None = None


def _registry() -> dict[str, ZooEntry]:
    entries: dict[str, ZooEntry] = {}
    if REGISTRY.is_file():
        data = json.loads(REGISTRY.read_text(encoding="utf-8"))
        entries = {e["name"]: ZooEntry(**e) for e in data["models"]}
        for alias, target in data.get("aliases", {}).items():
            entries[alias] = entries[target]
    for c in released_checkpoints().values():
        entries[c.name] = ZooEntry(name=c.name, sha256="", url=c.url, released=c,
                                   description=f"{c.method}, {c.arch} {c.input_size} px, {c.box}, trained on {c.trained_on} "
                                               f"by the authors ({c.repo_path})")
    try:
        user = _user_entries()
    except FaceAlignError:  # a damaged user registry must not stop the bundled models; resolve() reports it
        user = []
    for e in user:
        entries.setdefault(e.name, e)  # a bundled name always means the bundled model
    return entries


def user_registry() -> Path:
    """``$FACEALIGN_CACHE/user_models.json``: names given to model files on this machine."""
    return cache_dir() / "user_models.json"


def _user_entries() -> list[ZooEntry]:
    path = user_registry()
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["models"]
        out = []
        for r in rows:
            name, file, digest = r["name"], r["path"], r["sha256"]
            if not (isinstance(name, str) and NAME_RE.fullmatch(name) and isinstance(file, str)
                    and isinstance(digest, str) and len(digest) == 64):
                raise ValueError(f"bad entry {r!r}")
            out.append(ZooEntry(name=name, sha256=digest, path=file, description=str(r.get("description", ""))))
        return out
    except (ValueError, KeyError, TypeError) as e:
        raise FaceAlignError(f"{path}: not a valid user model registry ({e}); fix or delete it") from None


NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


# Names ending so are read as files, never as registered names.
MODEL_SUFFIXES = (".safetensors", ".onnx", ".pth", ".pt", ".h5", ".ckpt")


def check_user_name(name: str, path: str | Path) -> None:
    """Raise FaceAlignError unless ``name`` may be given to the file at ``path`` (a valid name that
    is no bundled model's and no other file's)."""
    if not NAME_RE.fullmatch(name):
        raise FaceAlignError(f"model name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if name.lower().endswith(MODEL_SUFFIXES) or name in (".", ".."):
        raise FaceAlignError(f"model name {name!r} looks like a file name (a path given to --model is always read as "
                             "that file); choose a name without a model file's suffix")
    if name in {key for key, e in _registry().items() if e.path is None}:  # names and aliases
        raise FaceAlignError(f"model name {name!r} is a bundled or released model's; choose another")
    taken = [e.path for e in _user_entries() if e.name == name and e.path != str(Path(path).resolve())]
    if taken:
        raise FaceAlignError(f"model name {name!r} is already given to {taken[0]}; choose another")


def register_user_model(name: str, path: str | Path, description: str = "") -> ZooEntry:
    """Give the model file ``path`` the name ``name`` on this machine (pinned by its sha256), so
    that ``load_model(name)`` and ``--model name`` find it.

    Raises:
        FaceAlignError: see :func:`check_user_name`.
    """
    check_user_name(name, path)
    p = Path(path).resolve()
    entry = ZooEntry(name=name, sha256=sha256_file(p), path=str(p), description=description)
    rows = [e for e in _user_entries() if e.name != name] + [entry]
    from facealign.utils.io import atomic_write_text

    user_registry().parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(user_registry(), json.dumps({"models": [
        {"name": e.name, "path": e.path, "sha256": e.sha256, "description": e.description} for e in rows]}, indent=1) + "\n")
    return entry


def aliases() -> dict[str, str]:
    """The registry's aliases, e.g. ``{"default": "ytf68-mnv2-128-mirrored"}``: alias -> model name."""
    return {key: e.name for key, e in _registry().items() if key != e.name}


def list_models() -> list[ZooEntry]:
    """Every registry entry (aliases not repeated)."""
    seen, out = set(), []
    for e in _registry().values():
        if e.name not in seen:
            seen.add(e.name)
            out.append(e)
    return out


def resolve(name_or_path: str | Path) -> Path:
    """The local, verified file behind a model name, path or URL. A path that exists always means
    that file, even where a model of that name is registered."""
    s = str(name_or_path)
    reg = _registry()
    if s in reg and not Path(s).is_file():
        e = reg[s]
        if e.released:
            return fetch_released(e.released)
        if e.file:
            p = WEIGHTS / e.file
            if not p.is_file():
                raise FaceAlignError(f"bundled model {s!r} is missing from the installation ({p})")
            if sha256_file(p) != e.sha256:
                raise FaceAlignError(f"{p}: sha256 does not match the registry entry of {s!r}; the file is damaged")
            return p
        if e.path:
            p = Path(e.path)
            if not p.is_file():
                raise FaceAlignError(f"user model {s!r}: its file {p} is gone ({user_registry()})")
            if sha256_file(p) != e.sha256:
                raise FaceAlignError(f"{p}: changed since it was named {s!r} (sha256 differs); name it again with "
                                     "facealign import ... --name")
            return p
        if e.url:
            return download(e.url, e.sha256)
        raise FaceAlignError(f"registry entry {s!r} has neither a file nor a url")
    if s.startswith(("http://", "https://", "file://")):
        url, _, frag = s.partition("#")
        if not frag.startswith("sha256="):
            raise FaceAlignError(f"{url}: a model URL needs its checksum: URL#sha256=HEX")
        return download(url, frag[len("sha256="):])
    p = Path(s)
    if p.is_file():
        return p
    _user_entries()  # a damaged user registry is the likelier cause: say so
    names = sorted(reg)
    raise FaceAlignError(f"{s}: no such model file or name (known names: {names})")


def resolve_onnx(name_or_path: str | Path, int8: bool = False) -> Path | None:
    """The ONNX file for a ``.onnx`` path or a registry name that has one (its int8 copy with
    ``int8``, where it has one); None otherwise."""
    s = str(name_or_path)
    if s.lower().endswith(".onnx"):
        p = Path(s)
        if not p.is_file():
            raise FaceAlignError(f"{p}: ONNX model file not found")
        return p
    e = _registry().get(s)
    if e is None or not e.onnx_file or Path(s).is_file():  # an existing path means that file (resolve)
        return None
    name, digest = (e.onnx_int8_file, e.onnx_int8_sha256) if int8 and e.onnx_int8_file else (e.onnx_file, e.onnx_sha256)
    p = WEIGHTS / str(name)
    if not p.is_file() or (digest and sha256_file(p) != digest):
        raise FaceAlignError(f"{p}: bundled ONNX file of {s!r} is missing or damaged")
    return p


def has_int8(name: str | Path) -> bool:
    """Whether the registry name ``name`` ships an int8 ONNX file."""
    e = _registry().get(str(name))
    return e is not None and bool(e.onnx_int8_file) and not Path(str(name)).is_file()
