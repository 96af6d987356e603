"""Landmark schemes as data: point count, groups, flip permutation, normaliser indices."""

from __future__ import annotations

from pathlib import Path

from facealign.errors import SchemeError
from facealign.schemes.builtin import AFLW_19, ALIASES, BUILTIN_SCHEMES, COFW_29, IBUG_68, LAPA_106, WFLW_98
from facealign.schemes.scheme import Scheme, landmark_box_size, load_scheme_file, perm_from_pairs


def get_scheme(name_or_path: str | Path | Scheme) -> Scheme:
    """Return a built-in scheme by name (``300w``, ``wflw``, ``cofw``, ``lapa``, ``aflw``), or load a
    custom one from a ``.yaml``/``.yml``/``.json`` file."""
    if isinstance(name_or_path, Scheme):
        return name_or_path
    key = str(name_or_path)
    low = key.lower()
    if low in BUILTIN_SCHEMES:
        return BUILTIN_SCHEMES[low]
    if low in ALIASES:
        return BUILTIN_SCHEMES[ALIASES[low]]
    if Path(key).suffix.lower() in {".yaml", ".yml", ".json"}:
        return load_scheme_file(key)
    raise SchemeError(
        f"unknown scheme {key!r}: use one of {sorted(BUILTIN_SCHEMES)} or a path to a .yaml/.json scheme file"
    )


def scheme_for_points(num_points: int) -> Scheme:
    """The built-in scheme with ``num_points`` landmarks."""
    for s in BUILTIN_SCHEMES.values():
        if s.num_points == num_points:
            return s
    raise SchemeError(f"no built-in scheme has {num_points} points; pass a custom scheme file")


__all__ = [
    "Scheme", "SchemeError", "get_scheme", "scheme_for_points", "load_scheme_file", "perm_from_pairs",
    "landmark_box_size",
    "IBUG_68", "WFLW_98", "COFW_29", "LAPA_106", "AFLW_19", "BUILTIN_SCHEMES",
]
