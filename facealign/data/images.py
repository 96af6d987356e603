"""Image decoding with clear errors, and safe resolution of annotation paths."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from facealign.errors import DataError, ImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")

# Larger images are refused rather than decoded: 10000 x 10000 x 3 bytes is 300 MB, and a
# decompression bomb can claim far more.
MAX_PIXELS = 80_000_000


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to (H, W, 3) RGB uint8.

    Greyscale, RGBA (alpha dropped), 16-bit (scaled to 8-bit) and CMYK JPEGs are converted.

    Raises:
        ImageError: the file is missing, empty, too large or not a decodable image.
    """
    p = Path(path)
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except FileNotFoundError:
        raise ImageError(p, "image file not found") from None
    except IsADirectoryError:
        raise ImageError(p, "is a directory, not an image") from None
    except OSError as e:
        raise ImageError(p, f"cannot read image ({e.strerror})") from None
    return decode_image(data, p)


def decode_image(data: np.ndarray | bytes, name: str | Path = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes to (H, W, 3) RGB uint8; errors name ``name``."""
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) else data
    if buf.size == 0:
        raise ImageError(name, "image file is empty")
    size = image_size_from_header(bytes(buf[:65536]))
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageError(name, f"image is {size[0]}x{size[1]} pixels, over the limit of {MAX_PIXELS} pixels")
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise ImageError(name, "not a readable image (unknown format, truncated or corrupt data)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def image_size_from_header(head: bytes) -> tuple[int, int] | None:
    """(width, height) read from the header of a PNG or JPEG, or None if not recognised."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            seg = int.from_bytes(head[i + 2:i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(head[i + 7:i + 9], "big"), int.from_bytes(head[i + 5:i + 7], "big")
            i += 2 + seg
    return None


def resolve_in_root(root: Path, relative: str, annotation: str | Path, line: int | None = None) -> Path:
    """Join an annotation's image path to the data-set root, refusing paths that escape it.

    Raises:
        DataError: ``relative`` is absolute or climbs out of ``root`` (e.g. ``../../x.jpg``).
    """
    rel = relative.replace("\\", "/")
    if os.path.isabs(rel) or rel.startswith("/"):
        raise DataError(annotation, f"image path {relative!r} is absolute; it must be relative to {root}", line)
    root_abs = Path(os.path.abspath(root))
    full = Path(os.path.abspath(root_abs / rel))
    if full != root_abs and root_abs not in full.parents:
        raise DataError(annotation, f"image path {relative!r} escapes the data-set root {root}", line)
    return full


def find_image_beside(stem_path: Path) -> Path | None:
    """The image file with the same stem as ``stem_path`` (any known extension), if one exists."""
    for ext in IMAGE_EXTENSIONS:
        for cand in (stem_path.with_suffix(ext), stem_path.with_suffix(ext.upper())):
            if cand.is_file():
                return cand
    return None
