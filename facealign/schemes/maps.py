"""Declared maps between landmark schemes, as data.

A map from scheme A to scheme B lists, for each of B's points, the A points whose mean is that
point (one index where the point exists in A as it is). Only maps whose every point has the same
meaning in both schemes are declared:

- ``wflw`` -> ``300w``: WFLW's 33 contour points every second one, the upper edge of each brow,
  nose and mouth as they are, and 6 of each eye's 8 points (corners and the outer and inner lid
  points). The standard correspondence of the WFLW paper's 68-point evaluation.
- any scheme -> ``five``: the eye centres, nose tip and mouth corners used to align faces, in the
  ArcFace order (image-left eye first, for a frontal face: the subject's right).

Not declared, with the reason: ``lapa`` -> ``300w`` (LaPa's 11 lower-nose points have no published
correspondence to the 5 of the 68-point mark-up), ``cofw`` -> ``five`` (COFW's pupil indices are
unverified, docs/conventions.md).
"""

from __future__ import annotations

import numpy as np

from facealign.errors import SchemeError
from facealign.schemes.scheme import Scheme


def _r(a: int, b: int) -> list[int]:
    return list(range(a, b + 1))


# each target point: the source indices averaged into it
SchemeMap = tuple[tuple[int, ...], ...]


def _single(indices: list[int]) -> SchemeMap:
    return tuple((i,) for i in indices)


WFLW_TO_300W: SchemeMap = _single(
    list(range(0, 33, 2))                                  # jaw 0-16
    + _r(33, 37) + _r(42, 46)                              # brows 17-26: upper edges
    + _r(51, 54) + _r(55, 59)                              # nose 27-35
    + [60, 61, 63, 64, 65, 67] + [68, 69, 71, 72, 73, 75]  # eyes 36-47
    + _r(76, 87) + _r(88, 95)                              # lips 48-67
)

# eye centres (image-left eye first), nose tip, mouth corners (image-left first)
FIVE_POINTS: dict[str, SchemeMap] = {
    "300w": (tuple(_r(36, 41)), tuple(_r(42, 47)), (30,), (48,), (54,)),
    "wflw": ((96,), (97,), (54,), (76,), (82,)),
    "lapa": ((104,), (105,), (54,), (84,), (90,)),
    "aflw": ((7,), (10,), (13,), (15,), (17,)),
}

SCHEME_MAPS: dict[tuple[str, str], SchemeMap] = {("wflw", "300w"): WFLW_TO_300W}
SCHEME_MAPS.update({(name, "five"): m for name, m in FIVE_POINTS.items()})


def scheme_map(source: str | Scheme, target: str | Scheme) -> SchemeMap:
    """The declared map from ``source`` to ``target`` (scheme names or schemes).

    Raises:
        SchemeError: no map is declared between them (the message lists those that are).
    """
    a = source.name if isinstance(source, Scheme) else str(source)
    b = target.name if isinstance(target, Scheme) else str(target)
    if (a, b) not in SCHEME_MAPS:
        known = ", ".join(f"{x} -> {y}" for x, y in SCHEME_MAPS)
        raise SchemeError(f"no map from scheme {a!r} to {b!r} is declared (declared: {known})")
    return SCHEME_MAPS[(a, b)]


def map_points(points: np.ndarray, source: str | Scheme, target: str | Scheme) -> np.ndarray:
    """(..., K_source, 2) points -> (..., K_target, 2) points of ``target`` by the declared map."""
    m = scheme_map(source, target)
    pts = np.asarray(points, dtype=np.float64)
    return np.stack([pts[..., list(idx), :].mean(axis=-2) for idx in m], axis=-2)


def five_points(points: np.ndarray, scheme: str | Scheme) -> np.ndarray:
    """(..., K, 2) landmarks -> (..., 5, 2): eye centres, nose tip, mouth corners (ArcFace order)."""
    return map_points(points, scheme, "five")
