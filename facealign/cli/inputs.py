"""What the commands that take images read: files, folders (recursively) and video sources."""

from __future__ import annotations

from pathlib import Path

from facealign.data.images import IMAGE_EXTENSIONS, require_regular_file
from facealign.errors import DataError


def collect(paths: list[str], recursive: bool) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(image path, path relative to its input root) pairs and video sources."""
    from facealign.predict.video import VIDEO_EXTENSIONS

    images, videos = [], []
    for raw in paths:
        p = Path(raw)
        if raw.isdigit() and not p.exists():
            videos.append(raw)
        elif p.is_dir():
            files = sorted(p.rglob("*") if recursive else p.iterdir())
            found = [f for f in files if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS]
            vids = [f for f in files if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS]
            if not found and not vids:
                raise DataError(p, "folder has no images" + ("" if recursive else " (use --recursive for sub-folders)"))
            images += [(f, f.relative_to(p)) for f in found]
            videos += [str(v) for v in vids]
        elif p.is_file():
            if p.suffix.lower() in VIDEO_EXTENSIONS:
                videos.append(str(p))
            else:
                images.append((p, Path(p.name)))
        elif p.exists():  # a FIFO, socket or device: named as such, not as missing
            require_regular_file(p)
        else:
            raise DataError(p, "no such file or folder")
    return images, videos
