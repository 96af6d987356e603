"""The authors' released checkpoints as data (``released.json`` beside this file): where each file
is, the digest it is checked against before anything reads it, the network and crop it needs, and
the NME the authors published for it. The importers, the zoo and the docs all read this one table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facealign.utils.digests import DigestKind

if TYPE_CHECKING:
    from facealign.models.landmark_model import LandmarkModel

TABLE = Path(__file__).with_name("released.json")


@dataclass(frozen=True)
class Published:
    """A number the authors published: NME (%) on ``test`` under ``normalizer``."""

    test: str
    nme_pct: float
    normalizer: str


@dataclass(frozen=True)
class ReleasedCheckpoint:
    """One released file.

    Attributes:
        name: facealign's name for it (``h3r-wflw-hrnet18-p1``, ``acr-300w-effb3``).
        kind: ``h3r`` (a ``model.pth``) or ``acr`` (a Keras ``.h5``).
        repo_path, url: Where it is in the authors' repository, and its download address.
        digest_kind, digest: ``sha256`` (H3R's Git LFS pointers give it) or ``git-blob-sha1`` (ACR's
            repository gives only git's object id).
        size: Bytes, where the authors' repository states it; ``approx_size`` otherwise.
        scheme, arch, input_size, box: Landmark scheme, ``facealign import --arch`` value, crop side,
            and the paper's box type (``P1`` landmark box, ``P2`` the data set's rectangle).
        trained_on, method: The training set the authors name, and the loss or method.
        published: The authors' NME for it (empty where none was published or found).
        licence: The terms the weights keep.
    """

    name: str
    kind: str
    repo_path: str
    url: str
    digest_kind: DigestKind
    digest: str
    size: int | None
    scheme: str
    arch: str
    input_size: int
    box: str
    trained_on: str
    method: str
    published: tuple[Published, ...]
    licence: str
    approx_size: int | None = None

    @property
    def num_points(self) -> int:
        return {"wflw": 98, "300w": 68, "lapa": 106, "cofw": 29}[self.scheme]

    @property
    def download_bytes(self) -> int:
        return int(self.size or self.approx_size or 0)

    @property
    def eval_box(self) -> str:
        """The box ``evaluate`` crops with: for the P2 files of WFLW the annotation's rectangle, of
        300-W the authors' 1-based landmark box (the ``300w`` reader gives both as the data set's
        box); else the landmark box (LaPa's P2 boxes came from the authors' own detector, which is
        not released; AFLW2000-3D is scored on landmark boxes)."""
        return "dataset" if self.box == "P2" and self.trained_on in ("WFLW", "F300W") else "landmarks"


@cache
def released_checkpoints() -> dict[str, ReleasedCheckpoint]:
    """Name -> checkpoint, in the table's order."""
    rows = json.loads(TABLE.read_text(encoding="utf-8"))["checkpoints"]
    out: dict[str, ReleasedCheckpoint] = {}
    for r in rows:
        r = dict(r, published=tuple(Published(**p) for p in r["published"]))
        out[r["name"]] = ReleasedCheckpoint(**r)
    return out


def released_by_digest(digest: str) -> ReleasedCheckpoint | None:
    """The released checkpoint whose pinned digest (sha256 or git blob SHA-1) is ``digest``."""
    return next((c for c in released_checkpoints().values() if c.digest == digest), None)


def convert_released(entry: ReleasedCheckpoint, path: str | Path) -> "LandmarkModel":
    """The downloaded (and already verified) file of ``entry`` as a facealign model."""
    from facealign.convert.acr import convert_acr
    from facealign.convert.h3r import convert_h3r

    model: Any
    if entry.kind == "h3r":
        model = convert_h3r(path, entry.arch, entry.scheme, entry.input_size, entry.eval_box)
    else:
        model = convert_acr(path, entry.arch, entry.scheme)
    model.info = dict(model.info, zoo_name=entry.name, released_as=entry.url)
    return model
