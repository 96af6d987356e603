"""Exceptions raised for bad input. Each message names the file (and line or field) at fault."""

from __future__ import annotations

from pathlib import Path


class FaceAlignError(Exception):
    """Base class of every error facealign raises on purpose."""


class SchemeError(FaceAlignError, ValueError):
    """A landmark scheme is malformed or does not match the data."""


class DataError(FaceAlignError, ValueError):
    """A data-set file, annotation or image is missing or malformed.

    Args:
        path: The file at fault.
        message: What is wrong.
        line: 1-based line number (or record index) inside ``path``, when known.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ImageError(DataError):
    """An image cannot be read or decoded."""


class ImageTooLarge(ImageError):
    """An image is over a size limit (pixels, aspect ratio): refused before it is decoded."""


class ConfigError(FaceAlignError, ValueError):
    """A configuration value is unknown or has the wrong type."""
