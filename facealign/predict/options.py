"""``AlignerOptions``: how a FaceAligner finds and aligns faces, as one object.

Built once -- from command-line flags (``facealign.cli.common.aligner_options``), a YAML mapping
or keyword arguments -- and handed whole to whatever builds an aligner: ``predict``, ``crop``,
``serve``, the Ray actors. A front end never passes a subset by hand, so none can drop a setting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facealign.detect.finder import FaceFinder
    from facealign.predict.aligner import FaceAligner

# Behind a detector whose keypoints frame the face (YuNet), a refine pass re-runs a face only when
# the box its landmarks give moved from the box it was cut from by more than this fraction of the
# side (centre shift, or change of size): on YTF-68 val half the faces (49 %) are re-run, NME
# 4.04 % as re-running all (docs/speed.md). Behind box-only detectors (dlib, the cascade) every
# face is re-run: their first crops are framed worse, and each pass pays there even when the box
# barely moves (dlib, 2 passes: 4.13 % re-running all, 4.21 % with this tolerance; docs/speed.md).
REFINE_TOLERANCE = 0.05


@dataclass(frozen=True)
class AlignerOptions:
    """Every setting of :class:`~facealign.predict.aligner.FaceAligner` a user chooses.

    Attributes:
        model: Model name, file or URL#sha256=... .
        detector: ``auto``, ``yunet``, ``dlib``, ``cascade``, ``full``, or a boxes file (JSON/CSV).
        min_face, max_face: Face sizes searched, in the image's pixels (docs/detection.md).
        rolled: Also search the image turned by 45 and 90 degrees either way.
        refine: Re-crop passes around the predicted landmarks.
        refine_tolerance: A refine pass re-runs the faces whose box moved by more than this
            fraction of its side (0: every face; None: :data:`REFINE_TOLERANCE` behind a detector
            with keypoints, 0 behind the others).
        flip: Flip test-time augmentation (None: the model's setting).
        backend: ``auto``, ``onnx`` or ``torch``.
        threads: Threads of the landmark stage (None: the runtime's default).
        device: Torch device of the landmark stage (torch backend).
        upright: Turn each crop so that the face is upright.
        precision: ``auto`` (default: int8 on CPUs with int8 dot products, where the model ships
            an int8 file; else fp32), ``fp32`` or ``int8``.
    """

    model: str = "default"
    detector: str = "auto"
    min_face: float = 20.0
    max_face: float | None = None
    rolled: bool = False
    refine: int = 1
    refine_tolerance: float | None = None
    flip: bool | None = None
    backend: str = "auto"
    threads: int | None = None
    device: str = "cpu"
    upright: bool = True
    precision: str = "auto"

    def build(self) -> FaceAligner:
        """The aligner these options describe."""
        from facealign.predict.aligner import FaceAligner

        return FaceAligner(self.model, self.detector, device=self.device, refine=self.refine, flip=self.flip,
                           min_face=self.min_face, threads=self.threads, backend=self.backend, upright=self.upright,
                           max_face=self.max_face, rolled=self.rolled, refine_tolerance=self.refine_tolerance,
                           precision=self.precision)

    def finder(self) -> FaceFinder:
        """The face pipeline before the model these options describe (detector, sizes, rolls, framing)."""
        from facealign.detect.finder import FaceFinder

        return FaceFinder(self.detector, self.min_face, self.max_face, self.rolled, self.upright)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON, YAML, a Ray actor's arguments)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "aligner options") -> AlignerOptions:
        """From a mapping (a YAML section, :meth:`to_dict`); unknown keys and wrong types are one error."""
        from facealign.utils.config import dataclass_from_dict

        return dataclass_from_dict(cls, d, source)

    def replace(self, **changes: Any) -> AlignerOptions:
        return dataclasses.replace(self, **changes)
