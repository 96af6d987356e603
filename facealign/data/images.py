"""Image decoding with clear errors, and safe resolution of annotation paths."""

from __future__ import annotations

import errno
import io
import os
import stat
import warnings
from pathlib import Path

import cv2
import numpy as np

from facealign.errors import DataError, ImageError, ImageTooLarge

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")

# Larger images are refused rather than decoded: 10000 x 10000 x 3 bytes is 300 MB, and a
# decompression bomb can claim far more.
MAX_PIXELS = 80_000_000
# Images longer than this many times their width (or the reverse) are refused: no face image is
# that thin, and a thin image's turned copies (the rolled-face search) are far larger than it is.
MAX_ASPECT = 50


def check_image_size(width: int, height: int, name: str | Path, max_pixels: int = MAX_PIXELS) -> None:
    """The one rule on image sizes, for files (from their header) and arrays alike.

    Raises:
        ImageError: over ``max_pixels`` pixels, or an aspect ratio over :data:`MAX_ASPECT`.
    """
    if width * height > max_pixels:
        raise ImageTooLarge(name, f"image is {width}x{height} pixels, over the limit of {max_pixels} pixels")
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        raise ImageTooLarge(name, f"image is {width}x{height} pixels, more than {MAX_ASPECT} times longer than wide")


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to (H, W, 3) RGB uint8.

    Greyscale, RGBA (alpha dropped), 16-bit (scaled to 8-bit) and CMYK JPEGs are converted.

    Raises:
        ImageError: the file is missing, empty, too large or not a decodable image.
    """
    p = Path(path)
    try:
        require_regular_file(p)
        data = np.fromfile(p, dtype=np.uint8)
    except FileNotFoundError:
        raise ImageError(p, "image file not found") from None
    except IsADirectoryError:
        raise ImageError(p, "is a directory, not an image") from None
    except OSError as e:
        raise ImageError(p, f"cannot read image ({e.strerror})") from None
    return decode_image(data, p)


def require_regular_file(path: Path) -> None:
    """Refuse what is not a regular file before opening it: reading a FIFO or a device never ends.

    Raises:
        FileNotFoundError, IsADirectoryError: as ``open`` would.
        DataError: a FIFO, socket or device.
    """
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if not stat.S_ISREG(mode):
        raise DataError(path, "not a regular file (a FIFO, socket or device); only files are read")


def decode_image(data: np.ndarray | bytes, name: str | Path = "<bytes>", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes to (H, W, 3) RGB uint8; errors name ``name``. Images over
    ``max_pixels`` are refused from their header, before decoding."""
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) else data
    if buf.size == 0:
        raise ImageError(name, "image file is empty")
    size = image_size(buf, name)
    if size is None:  # its size cannot be known before decoding, so it is not decoded (e.g. Radiance .hdr)
        raise ImageError(name, "not a readable image (unknown format, truncated or corrupt data)")
    check_image_size(*size, name, max_pixels)
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except cv2.error as e:  # OpenCV's own limits (e.g. CV_IO_MAX_IMAGE_PIXELS) and decoder failures
        raise ImageError(name, f"not a decodable image ({str(e).strip().splitlines()[-1][:160]})") from None
    if img is None or img.size == 0:
        raise ImageError(name, "not a readable image (unknown format, truncated or corrupt data)")
    if img.shape[1] * img.shape[0] > size[0] * size[1]:  # a decoder that disagrees with the header
        raise ImageTooLarge(name, f"decodes to {img.shape[1]}x{img.shape[0]} pixels, its header says {size[0]}x{size[1]}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=img)  # in place: no second full-size copy


def image_size(data: np.ndarray | bytes, name: str | Path = "<bytes>") -> tuple[int, int] | None:
    """(width, height) from the header of encoded image bytes (any format Pillow knows; only the
    header is parsed), or None when Pillow does not recognise the data."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:  # type: ignore[arg-type]  # an array is a buffer
                return im.size
    except Image.DecompressionBombError as e:
        raise ImageTooLarge(name, f"image is over the limit of {MAX_PIXELS} pixels ({e})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):  # SyntaxError: Pillow's parse errors
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
