"""Atomic file writes: a reader never sees a half-written file, even after a kill."""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# A file name may have 255 bytes on most file systems; temporary names add a dot, a PID and a tag
# to the name they are built on, so a long name is cut and told apart by a hash instead.
_TEMP_NAME_BYTES = 150


def temp_stem(name: str) -> str:
    """``name`` as temporary file names carry it: whole, or for a long name its start and a hash."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= _TEMP_NAME_BYTES:
        return name
    return raw[:100].decode("utf-8", "ignore") + "~" + hashlib.sha1(raw).hexdigest()[:12]


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` in one rename.

    The file gets ordinary permissions (0666 less the umask), not mkstemp's private 0600.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # the writer's PID in the name lets remove_dead_temps tell a killed writer's file from a live one
    fd, tmp = tempfile.mkstemp(prefix=f".{temp_stem(p.name)}.{os.getpid()}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # after writing: some writers (safetensors) replace the file and bring their own mode
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    def write(t: Path) -> None:
        t.write_text(text, encoding="utf-8")

    atomic_write(path, write)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    def write(t: Path) -> None:
        t.write_bytes(data)

    atomic_write(path, write)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (this one always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_dead_parts(folder: Path, prefix: str, suffix: str = "") -> list[Path]:
    """Delete the files ``folder/<prefix><PID>[.<more>]<suffix>`` whose writer (process PID) is
    gone: the temporary files of runs that were killed. Files of live processes are kept."""
    removed = []
    for tmp in Path(folder).glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        pid = tmp.name[len(prefix):len(tmp.name) - len(suffix)].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def part_path(path: Path) -> Path:
    """The temporary name a file is written under until it is complete and renamed onto ``path``
    (hidden, this process's PID in it, the suffix kept for writers that choose a format by it)."""
    return path.with_name(f".{temp_stem(path.stem)}.part{os.getpid()}{path.suffix}")


def remove_dead_parts_of(path: Path) -> list[Path]:
    """Delete the :func:`part_path` files of ``path`` left by runs that were killed (PID gone)."""
    return remove_dead_parts(path.parent, f".{temp_stem(path.stem)}.part", path.suffix)


def remove_dead_temps(path: str | Path) -> list[Path]:
    """Delete the temporary files that :func:`atomic_write` calls to ``path`` left when their
    process was killed (``.<name>.<PID>.<random>.tmp`` whose PID is gone); live writers' are kept."""
    p = Path(path)
    return remove_dead_parts(p.parent, f".{temp_stem(p.name)}.", ".tmp")


def remove_dead_temps_under(folder: Path) -> list[Path]:
    """:func:`remove_dead_temps` for every file under ``folder``: the temporary files of killed
    writers (``.<name>.<PID>.<random>.tmp`` whose PID is gone). Any other file is left alone,
    whatever its name: a user's own ``.notes.tmp`` is not facealign's to delete."""
    removed = []
    for tmp in Path(folder).rglob(".*.tmp") if Path(folder).is_dir() else []:
        parts = tmp.name[1:-len(".tmp")].rsplit(".", 2)
        if len(parts) == 3 and parts[1].isdigit() and len(parts[2]) == 8 and not pid_alive(int(parts[1])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
