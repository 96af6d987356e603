"""The landmark scheme: what a set of K points means, as data."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facealign.errors import ConfigError, SchemeError


@dataclass(frozen=True)
class Scheme:
    """A landmark definition.

    Attributes:
        name: Short identifier, e.g. ``"300w"``.
        num_points: K, the number of landmarks.
        flip_perm: Horizontal-flip permutation of length K: after mirroring an image,
            point ``i`` of the flipped face is point ``flip_perm[i]`` of the original.
        groups: Ordered mapping of part name (``"jaw"``, ``"left_eye"``...) to point indices,
            in drawing order.
        closed_groups: Names of groups whose polyline is closed (eyes, lips).
        outer_eye_corners: The two point indices whose distance is the inter-ocular normaliser.
        pupils: Two groups of point indices whose centroids are the pupils (a group may be a
            single point). ``None`` when the scheme has no eye points to use.
        description: Free text (source of the definition, caveats).
    """

    name: str
    num_points: int
    flip_perm: tuple[int, ...]
    groups: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    closed_groups: frozenset[str] = frozenset()
    outer_eye_corners: tuple[int, int] | None = None
    pupils: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        k = self.num_points
        where = f"scheme {self.name!r}"
        if k < 1:
            raise SchemeError(f"{where}: num_points must be >= 1, got {k}")
        if sorted(self.flip_perm) != list(range(k)):
            raise SchemeError(f"{where}: flip_perm must be a permutation of 0..{k - 1}")
        perm = np.asarray(self.flip_perm)
        if not np.array_equal(perm[perm], np.arange(k)):
            raise SchemeError(f"{where}: flip_perm is not an involution (flipping twice must be identity)")
        for gname, idx in self.groups.items():
            _check_indices(idx, k, f"{where}: group {gname!r}")
        for gname in self.closed_groups:
            if gname not in self.groups:
                raise SchemeError(f"{where}: closed group {gname!r} is not a group")
        if self.outer_eye_corners is not None:
            _check_indices(self.outer_eye_corners, k, f"{where}: outer_eye_corners")
            if len(self.outer_eye_corners) != 2:
                raise SchemeError(f"{where}: outer_eye_corners needs exactly 2 indices")
        if self.pupils is not None:
            if len(self.pupils) != 2:
                raise SchemeError(f"{where}: pupils needs exactly 2 groups")
            for g in self.pupils:
                _check_indices(g, k, f"{where}: pupils")
                if len(g) == 0:
                    raise SchemeError(f"{where}: a pupil group is empty")

    # ---- geometry helpers -------------------------------------------------------------
    def flip_points(self, points: Any, width: float) -> Any:
        """Mirror landmarks horizontally and re-label them.

        Uses the pixel-index convention of the whole library: a pixel centre sits at an integer
        coordinate, so column ``x`` of an image of ``width`` columns maps to ``width - 1 - x``.

        Args:
            points: (..., K, 2) coordinates: a numpy array (or anything array-like) or a torch
                tensor.
            width: Image width in pixels.

        Returns:
            (..., K, 2) flipped and permuted coordinates (new array): float64 for numpy input,
            a tensor of the input's dtype and device for a tensor.
        """
        is_tensor = hasattr(points, "detach")  # a torch tensor (schemes stay torch-free)
        pts: Any = points if is_tensor else np.asarray(points)
        if pts.shape[-2] != self.num_points:
            raise SchemeError(
                f"scheme {self.name!r} has {self.num_points} points, got an array of shape {tuple(pts.shape)}"
            )
        perm = list(self.flip_perm)
        # float64 keeps the mirror exact: flipping float32 input twice gives it back bit for bit
        out = pts[..., perm, :].clone() if is_tensor else pts[..., perm, :].astype(np.float64)
        out[..., 0] = (width - 1) - out[..., 0]
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (the format :func:`load_scheme` reads)."""
        return {
            "name": self.name,
            "num_points": self.num_points,
            "flip_perm": list(self.flip_perm),
            "groups": {k: list(v) for k, v in self.groups.items()},
            "closed_groups": sorted(self.closed_groups),
            "outer_eye_corners": list(self.outer_eye_corners) if self.outer_eye_corners else None,
            "pupils": [list(g) for g in self.pupils] if self.pupils else None,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "<dict>") -> "Scheme":
        """Build a scheme from a mapping; errors name ``source`` and the offending key."""
        allowed = {
            "name", "num_points", "flip_perm", "flip_pairs", "groups", "closed_groups",
            "outer_eye_corners", "pupils", "description",
        }
        if not isinstance(d, Mapping):
            raise SchemeError(f"{source}: a scheme must be a mapping, got {type(d).__name__}")
        unknown = set(d) - allowed
        if unknown:
            raise SchemeError(f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        for key in ("name", "num_points"):
            if key not in d:
                raise SchemeError(f"{source}: missing required key {key!r}")
        k = d["num_points"]
        if not isinstance(k, int) or isinstance(k, bool):
            raise SchemeError(f"{source}: num_points must be an integer, got {k!r}")
        if "flip_perm" in d and "flip_pairs" in d:
            raise SchemeError(f"{source}: give flip_perm or flip_pairs, not both")
        try:
            if "flip_perm" in d:
                perm = tuple(int(i) for i in d["flip_perm"])
            else:
                perm = perm_from_pairs(k, [tuple(p) for p in d.get("flip_pairs", [])])
            groups = {str(g): tuple(int(i) for i in idx) for g, idx in (d.get("groups") or {}).items()}
            corners = d.get("outer_eye_corners")
            pupils = d.get("pupils")
            return cls(
                name=str(d["name"]),
                num_points=k,
                flip_perm=perm,
                groups=groups,
                closed_groups=frozenset(d.get("closed_groups") or ()),
                # lengths are checked in __post_init__, with the file named
                outer_eye_corners=tuple(int(i) for i in corners) if corners is not None else None,  # type: ignore[arg-type]
                pupils=tuple(tuple(int(i) for i in _as_list(g)) for g in pupils) if pupils is not None else None,  # type: ignore[arg-type]
                description=str(d.get("description", "")),
            )
        except SchemeError as e:
            raise SchemeError(f"{source}: {e}") from None
        except (TypeError, ValueError) as e:
            raise SchemeError(f"{source}: malformed scheme field ({e})") from None


def _as_list(g: Any) -> list:
    return list(g) if isinstance(g, (list, tuple)) else [g]


def _check_indices(idx: Sequence[int], k: int, where: str) -> None:
    for i in idx:
        if not (0 <= int(i) < k):
            raise SchemeError(f"{where}: index {i} outside 0..{k - 1}")


def landmark_box_size(points: Any) -> Any:
    """sqrt(w * h) of the landmark box: the face scale that holds for every scheme, shared by the
    ``bbox`` NME normaliser and ``flip_shift`` (measured in the one, applied in the others).

    Args:
        points: (..., K, 2) landmarks: a numpy array or a torch tensor (traceable for ONNX).

    Returns:
        (...) box sizes, in the dtype (and, for a tensor, on the device) of ``points``.
    """
    if hasattr(points, "detach"):  # a torch tensor (schemes stay torch-free)
        wh = points.amax(dim=-2) - points.amin(dim=-2)
        return (wh[..., 0] * wh[..., 1]).sqrt()
    wh = points.max(axis=-2) - points.min(axis=-2)
    return np.sqrt(wh[..., 0] * wh[..., 1])


def perm_from_pairs(num_points: int, pairs: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Build a flip permutation from left/right swap pairs; unlisted points map to themselves."""
    perm = list(range(num_points))
    seen: set[int] = set()
    for pair in pairs:
        if len(pair) != 2:
            raise SchemeError(f"flip pair {pair!r} must have two indices")
        a, b = int(pair[0]), int(pair[1])
        for i in (a, b):
            if not 0 <= i < num_points:
                raise SchemeError(f"flip pair index {i} outside 0..{num_points - 1}")
            if i in seen:
                raise SchemeError(f"point {i} appears in more than one flip pair")
            seen.add(i)
        perm[a], perm[b] = b, a
    return tuple(perm)


def load_scheme_file(path: str | Path) -> Scheme:
    """Load a custom scheme from a YAML or JSON file (keys as in :meth:`Scheme.to_dict`;
    ``flip_pairs`` may replace ``flip_perm``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise SchemeError(f"{p}: cannot read scheme file ({e.strerror})") from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            from facealign.utils.config import load_yaml

            data = load_yaml(text, str(p))
    except ConfigError as e:
        raise SchemeError(str(e)) from None
    except Exception as e:  # noqa: BLE001 - parser errors have many types
        raise SchemeError(f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'} ({e})") from None
    return Scheme.from_dict(data, source=str(p))
