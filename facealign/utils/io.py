"""Atomic file writes: a reader never sees a half-written file, even after a kill."""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` in one rename.

    The file gets ordinary permissions (0666 less the umask), not mkstemp's private 0600.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # the writer's PID in the name lets remove_dead_temps tell a killed writer's file from a live one
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.{os.getpid()}.", suffix=".tmp", dir=p.parent)
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
    atomic_write(path, lambda t: t.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda t: t.write_bytes(data))


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


def remove_dead_temps(path: str | Path) -> list[Path]:
    """Delete the temporary files that :func:`atomic_write` calls to ``path`` left when their
    process was killed (``.<name>.<PID>.<random>.tmp`` whose PID is gone); live writers' are kept."""
    p = Path(path)
    return remove_dead_parts(p.parent, f".{p.name}.", ".tmp")
