"""``FaceAligner``: images in, faces and landmarks out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from facealign.data.crop import cut_face, invert_affine, transform_points
from facealign.data.sample import landmark_box
from facealign.detect import Detections
from facealign.detect.finder import FaceFinder, check_boxes_fit
from facealign.detect.frame import roll_degrees, upright_boxes
from facealign.errors import FaceAlignError
from facealign.predict.images import as_image_list
from facealign.predict.options import REFINE_TOLERANCE
from facealign.predict.result import FaceResult
from facealign.predict.runners import create_runner, onnxruntime_available

if TYPE_CHECKING:
    import torch
    from PIL.Image import Image as PILImage

BACKENDS = ("auto", "torch", "onnx")
PRECISIONS = ("auto", "fp32", "int8")


class FaceAligner:
    """Detect faces and place landmarks.

    Args:
        model: A model name from :func:`facealign.zoo.list_models` (``"default"``), a model file
            path, or a loaded :class:`~facealign.models.LandmarkModel`.
        detector: ``auto``, ``yunet``, ``dlib``, ``cascade``, ``full`` (the image is the face), a boxes file
            (JSON/CSV, see :class:`~facealign.detect.BoxesDetector`) or a detector object.
        device: Torch device for the landmark stage (torch backend).
        backend: ``onnx`` (ONNX Runtime; no torch import when the ONNX file exists), ``torch``, or
            ``auto`` (default): ONNX Runtime when it is installed (faster per face than eager
            PyTorch: docs/speed.md), else PyTorch. A model without an ONNX file is exported once
            into the cache (same landmarks within 0.01 px).
        refine: Extra passes that re-crop each face around its predicted landmarks (the box
            the model was trained on). Default 1; what each pass gains through each detector is
            measured in docs/inference.md (benchmarks/pipeline_accuracy.py).
        refine_tolerance: A refine pass re-runs only the faces whose landmark box moved from the
            box they were cut from by more than this fraction of its side (0: all). Default:
            0.05 behind a detector whose keypoints frame faces (YuNet), 0 behind the others
            (:data:`~facealign.predict.options.REFINE_TOLERANCE`).
        flip: Flip test-time augmentation; default the model's setting.
        upright: Turn each crop so that the face is upright (its roll read from the detector's eye
            keypoints, then from the predicted eye corners in refine passes), as the models saw
            faces in training. Off: crops stay aligned with the image axes.
        min_face: Smallest face searched, in the image's pixels (the side of its landmark box;
            default 20). Large images are searched within a pixel budget that may raise it:
            ``Detections.min_face_searched`` says by how much (docs/detection.md).
        max_face: Largest face searched (default: as large as the image).
        rolled: Also search the image turned by +-45 and +-90 degrees, to find faces rolled that
            far when upright faces are found too (each turn costs one more detector pass; a lone
            rolled face is found without it).
        precision: ``auto`` (default): the model's bundled int8 ONNX file where it ships one,
            ONNX Runtime runs it and the CPU has int8 dot products (AVX-512 VNNI, which AMX CPUs
            have too), else fp32; ``fp32``; or ``int8`` (ONNX Runtime only). ``self.precision``
            says which runs. The bundled int8 file keeps its first and last convolution float: its
            NME through YuNet on YTF-68 val equals fp32's, its landmarks differ from fp32's by
            0.14 px on average there (docs/speed.md), so results depend slightly on the CPU;
            pass ``fp32`` for the same numbers everywhere.
        max_batch: Faces per forward pass (all faces of a call share passes).
        threads: Threads of the landmark stage (None: the runtime's default).

    :class:`~facealign.predict.options.AlignerOptions` holds these settings as one object.
    """

    def __init__(self, model: Any = "default", detector: Any = "auto", device: str = "cpu", refine: int = 1,
                 flip: bool | None = None, min_face: float = 20, max_batch: int = 128, threads: int | None = None,
                 backend: str = "auto", upright: bool = True, max_face: float | None = None, rolled: bool = False,
                 refine_tolerance: float | None = None, precision: str = "auto"):
        if backend not in BACKENDS:
            raise FaceAlignError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
        self.backend = backend = _backend(backend, device)
        self.precision = _precision(precision, model, backend)
        self.runner = create_runner(model, backend, device, threads, int8=self.precision == "int8")
        self.scheme = self.runner.scheme
        self.finder = FaceFinder(detector, min_face, max_face, rolled, upright)
        self.detector = self.finder.detector
        if refine_tolerance is None:
            refine_tolerance = REFINE_TOLERANCE if self.finder.calibration.keypoint_fit is not None else 0.0
        if not 0.0 <= float(refine_tolerance) <= 1.0:
            raise FaceAlignError(f"refine_tolerance must be a fraction in [0, 1], got {refine_tolerance!r}")
        self.refine, self.flip, self.max_batch = int(refine), flip, max_batch
        self.refine_tolerance = float(refine_tolerance)

    @property
    def upright(self) -> bool:
        """Crops turned upright (the finder frames faces with their roll; refine passes keep it)."""
        return self.finder.upright

    @upright.setter
    def upright(self, value: bool) -> None:
        self.finder.upright = bool(value)

    # ---- public -------------------------------------------------------------------------
    @overload
    def predict(self, images: str | Path | np.ndarray | PILImage, boxes: Any = None,
                sources: Sequence[str] | None = None) -> FaceResult: ...

    @overload
    def predict(self, images: list[Any] | tuple[Any, ...], boxes: Any = None,
                sources: Sequence[str] | None = None) -> list[FaceResult]: ...

    @overload  # a torch tensor: (3, H, W) is one image, (B, 3, H, W) a batch
    def predict(self, images: torch.Tensor, boxes: Any = None,
                sources: Sequence[str] | None = None) -> FaceResult | list[FaceResult]: ...

    def predict(self, images: Any, boxes: Any = None, sources: Sequence[str] | None = None) -> FaceResult | list[FaceResult]:
        """Landmarks for every face of one image or a batch.

        Args:
            images: A path, an (H, W, 3) RGB numpy array, a PIL image, a (3, H, W) tensor, a list of
                any of these, or a (B, 3, H, W) tensor.
            boxes: Face boxes instead of detection: (N, 4) x1, y1, x2, y2 for a single image, or a
                list with one such array per image.
            sources: File names of images passed as arrays (one per image): they go into the
                results and find the faces of a boxes-file detector.

        Returns:
            A :class:`FaceResult` for a single image, a list of them for a batch.
        """
        items, single = as_image_list(images)
        if sources is not None:
            if len(sources) != len(items):
                raise FaceAlignError(f"got {len(sources)} sources for {len(items)} images")
            items = [(img, str(src)) for (img, _), src in zip(items, sources)]
        if boxes is not None:
            per_image = [boxes] if single else list(boxes)
            if len(per_image) != len(items):
                raise FaceAlignError(f"got boxes for {len(per_image)} images but {len(items)} images")
            dets = [self._user_boxes(b, i, img.shape[:2]) for i, (b, (img, _)) in enumerate(zip(per_image, items))]
            frames = [(d.boxes.copy(), np.zeros(len(d))) for d in dets]
        else:
            found = [self.find_faces(img, src) for img, src in items]
            dets, frames = [f[0] for f in found], [(f[1], f[2]) for f in found]
        results = self.align([img for img, _ in items], [f[0] for f in frames], rolls=[f[1] for f in frames])
        out = [FaceResult(d.image_boxes(), lm, sc, d.scores, self.scheme, img.shape[:2], src)
               for (img, src), d, (lm, sc) in zip(items, dets, results)]
        return out[0] if single else out

    def find_faces(self, image: np.ndarray, source: str | None = None) -> tuple[Detections, np.ndarray, np.ndarray]:
        """The face pipeline before the model, for one RGB image: what every front end (predict,
        the server, video) runs. Returns (detections, (N, 4) boxes framed like landmark boxes,
        (N,) roll of each crop in degrees): :meth:`align` takes the boxes and rolls."""
        return self.finder.find_faces(image, source)

    def detect(self, image: np.ndarray, source: str | None = None) -> Detections:
        """Faces in one RGB image (no landmarks)."""
        return self.finder.detect(image, source)

    def frame_faces(self, det: Detections) -> tuple[np.ndarray, np.ndarray]:
        """Detections -> (boxes (N, 4) framed like landmark boxes, roll (N,) degrees of each crop)."""
        return self.finder.frame_faces(det)

    def align(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray], refine: int | None = None,
              rolls: Sequence[np.ndarray] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """The landmark stage: crops from landmark-style boxes, all faces in shared batches.

        Args:
            boxes: Per image, (N, 4) boxes framed like landmark boxes.
            rolls: Per image, (N,) degrees to turn each crop by (default 0).

        Returns:
            Per image: (landmarks (N, K, 2), scores (N, K)).
        """
        k = self.scheme.num_points
        owners = [(i, j) for i, b in enumerate(boxes) for j in range(len(b))]
        flat = [np.asarray(boxes[i][j], np.float64) for i, j in owners]
        roll = np.array([float(rolls[i][j]) if rolls is not None else 0.0 for i, j in owners])
        pts, scores = np.zeros((len(owners), k, 2), np.float32), np.ones((len(owners), k), np.float32)
        todo = np.arange(len(owners))  # faces the next pass runs: all, then those whose box moved
        for _ in range(1 + (self.refine if refine is None else refine)):
            if not len(todo):
                break
            pts[todo], scores[todo] = self._run(images, [owners[n] for n in todo], [flat[n] for n in todo], roll[todo])
            new_boxes, new_roll = self.reframe(pts[todo])
            moved = [box_moved(flat[face], b, self.refine_tolerance) for face, b in zip(todo, new_boxes)]
            for face, b, r in zip(todo, new_boxes, new_roll):
                flat[face], roll[face] = b, r
            todo = todo[np.asarray(moved, bool)]
        out = [(np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)) for _ in images]
        for n, (i, _) in enumerate(owners):
            lm, sc = out[i]
            out[i] = (np.concatenate([lm, pts[n:n + 1]]), np.concatenate([sc, scores[n:n + 1]]))
        return out

    def reframe(self, pts: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Boxes and roll (N,) for a next pass (or video frame) from (N, K, 2) landmarks."""
        eyes = self.scheme.outer_eye_corners
        if not self.upright or eyes is None:
            return [landmark_box(p) for p in pts], np.zeros(len(pts))
        roll = roll_degrees(pts[:, eyes[0]], pts[:, eyes[1]])
        return list(upright_boxes(pts, roll)), roll

    # ---- internals ----------------------------------------------------------------------
    def _run(self, images, owners, flat_boxes, roll) -> tuple[np.ndarray, np.ndarray]:
        mats, crops = [], []
        for (i, _), b, r in zip(owners, flat_boxes, roll):
            b = np.asarray(b, np.float64)
            if not (b[2] - b[0] > 1 and b[3] - b[1] > 1):  # degenerate prediction: keep a minimal box
                c = (b[:2] + b[2:]) / 2
                b = np.concatenate([c - 1, c + 1])
            crop, m = cut_face(images[i], b, self.runner.config, float(r))
            mats.append(m)
            crops.append(crop)
        batch = np.stack(crops)
        pts_list, sc_list = [], []
        for s in range(0, len(batch), self.max_batch):
            p, sc = self.runner.predict_crops(batch[s:s + self.max_batch], self.flip)
            pts_list.append(p)
            sc_list.append(sc)
        pts = np.concatenate(pts_list)
        bad = ~np.isfinite(pts).all(axis=(1, 2))
        if bad.any():  # never NaN in a user's results: a model that gives them is broken
            raise FaceAlignError(f"{getattr(self.runner, 'path', 'the model')}: gave NaN or infinite landmarks for "
                                 f"{int(bad.sum())} of {len(pts)} faces; its weights are broken")
        back = np.stack([transform_points(p, invert_affine(m)) for p, m in zip(pts, mats)]).astype(np.float32)
        return back, np.clip(np.concatenate(sc_list), 0.0, 1.0)

    def _user_boxes(self, b: Any, index: int, image_hw: tuple[int, int]) -> Detections:
        try:
            arr = np.asarray(b if b is not None else [], dtype=np.float64)
        except (TypeError, ValueError):
            raise FaceAlignError(f"boxes of image {index}: not an (N, 4) array of numbers") from None
        if arr.size == 0:
            arr = np.zeros((0, 4))
        elif arr.shape == (4,):
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise FaceAlignError(f"boxes of image {index}: expected (N, 4) x1, y1, x2, y2, got shape {arr.shape}")
        with np.errstate(over="ignore"):
            arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise FaceAlignError(f"boxes of image {index}: not finite numbers within the range of 32-bit floats")
        bad = (arr[:, 2] <= arr[:, 0]) | (arr[:, 3] <= arr[:, 1])
        if bad.any():
            raise FaceAlignError(f"boxes of image {index}: box {arr[bad][0].tolist()} has zero or negative size")
        check_boxes_fit(arr, image_hw, f"boxes of image {index}")
        return Detections(arr, np.ones(len(arr), np.float32))


def resolve_precision(asked: str, model: Any, backend: str = "auto", device: str = "cpu") -> str:
    """``fp32`` or ``int8``: the file ``FaceAligner(model, backend=..., device=..., precision=asked)``
    runs on this machine (``auto`` depends on its CPU)."""
    return _precision(asked, model, _backend(backend, device))


def _backend(asked: str, device: str) -> str:
    """``onnx`` or ``torch``: what ``asked`` (``auto``, ``onnx``, ``torch``) means on ``device``."""
    if asked == "auto":
        return "onnx" if onnxruntime_available() and str(device) == "cpu" else "torch"
    return asked


def _precision(asked: str, model: Any, backend: str) -> str:
    """``fp32`` or ``int8``: what ``asked`` (``auto``, ``fp32``, ``int8``) means for this model and backend."""
    from facealign.utils.cpu import fast_int8_cpu
    from facealign.zoo import has_int8

    if asked not in PRECISIONS:
        raise FaceAlignError(f"unknown precision {asked!r}; choose one of {list(PRECISIONS)}")
    available = backend == "onnx" and isinstance(model, (str, Path)) and has_int8(model)
    if asked == "int8" and backend != "onnx":
        raise FaceAlignError(f"precision int8 runs the model's int8 ONNX file in ONNX Runtime, not with backend {backend!r}")
    if asked == "int8" and not available:
        raise FaceAlignError(f"precision int8: {model!r} ships no int8 file for ONNX Runtime (make one with "
                             "facealign export MODEL --quantize int8 and pass that .onnx file as the model)")
    if asked == "auto":
        return "int8" if available and fast_int8_cpu() else "fp32"
    return asked


def box_moved(before: np.ndarray, after: np.ndarray, tolerance: float) -> bool:
    """Whether the (4,) box ``after`` differs from ``before`` by more than ``tolerance`` of its side:
    its centre moved that far, or its side grew or shrank by that factor."""
    side0 = max(before[2] - before[0], before[3] - before[1], 1e-6)
    side1 = max(after[2] - after[0], after[3] - after[1], 1e-6)
    shift = float(np.hypot(*((after[:2] + after[2:]) - (before[:2] + before[2:])) / 2)) / side1
    return shift > tolerance or abs(float(np.log(side1 / side0))) > tolerance
