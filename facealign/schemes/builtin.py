"""Built-in landmark schemes of the standard benchmarks.

Left/right names are the subject's: ``right_eye`` is the eye on the image's left in a frontal face.
Flip permutations follow the benchmarks' published flip pairs (docs/conventions.md), 0-based.
"""

from __future__ import annotations

from facealign.schemes.scheme import Scheme, perm_from_pairs


def _r(a: int, b: int) -> tuple[int, ...]:
    """Inclusive range a..b (descending when a > b)."""
    step = 1 if b >= a else -1
    return tuple(range(a, b + step, step))


IBUG_68 = Scheme(
    name="300w",
    num_points=68,
    flip_perm=(
        _r(16, 0) + _r(26, 17) + (27, 28, 29, 30) + _r(35, 31)
        + (45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40)
        + _r(54, 48) + _r(59, 55) + _r(64, 60) + _r(67, 65)
    ),
    groups={
        "jaw": _r(0, 16),
        "right_brow": _r(17, 21),
        "left_brow": _r(22, 26),
        "nose_bridge": _r(27, 30),
        "nose_lower": _r(31, 35),
        "right_eye": _r(36, 41),
        "left_eye": _r(42, 47),
        "outer_lip": _r(48, 59),
        "inner_lip": _r(60, 67),
    },
    closed_groups=frozenset({"right_eye", "left_eye", "outer_lip", "inner_lip"}),
    outer_eye_corners=(36, 45),
    pupils=(_r(36, 41), _r(42, 47)),
    description="iBUG 300-W / 300-VW / Menpo 68-point mark-up; pupils are the eye-contour centroids.",
)

WFLW_98 = Scheme(
    name="wflw",
    num_points=98,
    flip_perm=(
        _r(32, 0) + (46, 45, 44, 43, 42, 50, 49, 48, 47, 37, 36, 35, 34, 33, 41, 40, 39, 38)
        + (51, 52, 53, 54) + _r(59, 55)
        + (72, 71, 70, 69, 68, 75, 74, 73, 64, 63, 62, 61, 60, 67, 66, 65)
        + _r(82, 76) + _r(87, 83) + _r(92, 88) + _r(95, 93) + (97, 96)
    ),
    groups={
        "contour": _r(0, 32),
        "right_brow": _r(33, 41),
        "left_brow": _r(42, 50),
        "nose_bridge": _r(51, 54),
        "nose_lower": _r(55, 59),
        "right_eye": _r(60, 67),
        "left_eye": _r(68, 75),
        "outer_lip": _r(76, 87),
        "inner_lip": _r(88, 95),
        "right_pupil": (96,),
        "left_pupil": (97,),
    },
    closed_groups=frozenset({"right_brow", "left_brow", "right_eye", "left_eye", "outer_lip", "inner_lip"}),
    outer_eye_corners=(60, 72),
    pupils=((96,), (97,)),
    description="WFLW 98-point mark-up (Wu et al., CVPR 2018).",
)

COFW_29 = Scheme(
    name="cofw",
    num_points=29,
    flip_perm=perm_from_pairs(
        29,
        [(0, 1), (2, 3), (4, 6), (5, 7), (8, 9), (10, 11), (12, 14), (13, 15), (16, 17), (18, 19), (22, 23)],
    ),
    groups={
        "brows": _r(0, 7),
        "eye_corners": _r(8, 11),
        "eyelids": _r(12, 15),
        "pupils": (16, 17),
        "nose": _r(18, 21),
        "mouth": _r(22, 27),
        "chin": (28,),
    },
    outer_eye_corners=(8, 9),
    pupils=((16,), (17,)),
    description=(
        "COFW 29-point mark-up (Burgos-Artizzu et al., ICCV 2013). Normaliser 8/9 follows the HRNet "
        "convention; the pupil indices 16/17 are unverified (see docs/conventions.md)."
    ),
)

LAPA_106 = Scheme(
    name="lapa",
    num_points=106,
    flip_perm=(
        _r(32, 0) + (46, 45, 44, 43, 42, 50, 49, 48, 47, 37, 36, 35, 34, 33, 41, 40, 39, 38)
        + (51, 52, 53, 54) + _r(65, 55)
        + (79, 78, 77, 76, 75, 82, 81, 80, 83, 70, 69, 68, 67, 66, 73, 72, 71, 74)
        + _r(90, 84) + _r(95, 91) + _r(100, 96) + _r(103, 101) + (105, 104)
    ),
    groups={
        "contour": _r(0, 32),
        "right_brow": _r(33, 41),
        "left_brow": _r(42, 50),
        "nose_bridge": _r(51, 54),
        "nose_lower": _r(55, 65),
        "right_eye": _r(66, 73),
        "right_eye_centre": (74,),
        "left_eye": _r(75, 82),
        "left_eye_centre": (83,),
        "outer_lip": _r(84, 95),
        "inner_lip": _r(96, 103),
        "right_pupil": (104,),
        "left_pupil": (105,),
    },
    closed_groups=frozenset({"right_brow", "left_brow", "right_eye", "left_eye", "outer_lip", "inner_lip"}),
    outer_eye_corners=(66, 79),
    pupils=((104,), (105,)),
    description="LaPa / JD-landmark 106-point mark-up (Liu et al., AAAI 2020).",
)

AFLW_19 = Scheme(
    name="aflw",
    num_points=19,
    flip_perm=perm_from_pairs(19, [(0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9), (12, 14), (15, 17)]),
    groups={
        "right_brow": (0, 1, 2),
        "left_brow": (3, 4, 5),
        "right_eye": (6, 7, 8),
        "left_eye": (9, 10, 11),
        "nose": (12, 13, 14),
        "mouth": (15, 16, 17),
        "chin": (18,),
    },
    outer_eye_corners=(6, 11),
    pupils=((7,), (10,)),
    description=(
        "AFLW 19-point mark-up (21 points without the ears). The usual normaliser is the face-box size "
        "(use normalizer='bbox'); eye-corner and pupil indices are inferred from the mark-up order."
    ),
)

FIVE_5 = Scheme(
    name="five",
    num_points=5,
    flip_perm=(1, 0, 2, 4, 3),
    groups={"eyes": (0, 1), "nose": (2,), "mouth": (3, 4)},
    outer_eye_corners=(0, 1),
    pupils=((0,), (1,)),
    description=(
        "Five alignment points: eye centres, nose tip, mouth corners, image-left first for a frontal face "
        "(the ArcFace / RetinaFace order). Normaliser: the eye-centre distance."
    ),
)

BUILTIN_SCHEMES: dict[str, Scheme] = {s.name: s for s in (IBUG_68, WFLW_98, COFW_29, LAPA_106, AFLW_19, FIVE_5)}
ALIASES = {"ibug68": "300w", "68": "300w", "300vw": "300w", "menpo": "300w", "98": "wflw", "29": "cofw",
           "106": "lapa", "19": "aflw", "5": "five"}
