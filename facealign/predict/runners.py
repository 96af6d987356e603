"""Landmark-stage runners: face crops in, crop-pixel landmarks out, one interface per engine.

``TorchRunner`` runs a :class:`~facealign.models.LandmarkModel` in PyTorch; ``OnnxRunner`` runs a
facealign ONNX file in ONNX Runtime without importing torch (numpy + onnxruntime). Both take
(B, S, S, 3) uint8 RGB crops and return (points (B, K, 2) float64 crop pixels, scores (B, K) float32).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from facealign.codecs.flip import merge_flip_pass
from facealign.codecs.numpy_decode import decode_heatmap_numpy, decode_regression_numpy
from facealign.errors import FaceAlignError
from facealign.models.config import ModelConfig

# Batches of at most this many crops run on one thread when the user set no thread count.
SMALL_BATCH = 2


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


class TorchRunner:
    """The landmark stage in PyTorch (channels-last, inference mode).

    Args:
        model: A loaded LandmarkModel, or a zoo name / model file / URL.
        device: Torch device.
        threads: torch intra-op threads (None: leave as is).
    """

    def __init__(self, model: Any, device: str = "cpu", threads: int | None = None):
        import torch

        from facealign.zoo import load_model

        if threads:
            torch.set_num_threads(threads)
        self.model = (load_model(model) if isinstance(model, (str, Path)) else model).to(device).eval()
        self.device = torch.device(device)
        self.config, self.scheme = self.model.config, self.model.scheme

    def predict_crops(self, crops: np.ndarray, flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        import torch

        x = torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            p, sc = self.model.predict(x.to(self.device), flip=flip)
        return p.double().cpu().numpy(), sc.float().cpu().numpy()


class OnnxRunner:
    """A facealign ONNX file run by ONNX Runtime.

    Args:
        path: ``.onnx`` written by :func:`facealign.export.export_onnx`.
        threads: Intra-op threads (None: ONNX Runtime's default for batches, one thread for a
            batch of :data:`SMALL_BATCH` crops or fewer, see :meth:`_session_for`).
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise FaceAlignError("the ONNX backend needs onnxruntime: pip install 'facealign[onnx]'") from None
        p = Path(path)
        if not p.is_file():
            raise FaceAlignError(f"{p}: ONNX model file not found")
        try:
            self.session = _ort_session(ort, p, threads)
        except Exception as e:  # noqa: BLE001 - ORT raises its own exception types
            raise FaceAlignError(f"{p}: not a loadable ONNX model ({str(e).splitlines()[0][:200]})") from None
        self._threads = threads
        self._small: Any = None  # the one-thread session of small batches, made on first use
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("format") != "facealign" or "facealign_config" not in meta:
            raise FaceAlignError(f"{p}: an ONNX model, but not one exported by facealign (no facealign metadata)")
        try:
            raw = json.loads(meta["facealign_config"])
        except json.JSONDecodeError as e:
            raise FaceAlignError(f"{p}: its facealign_config metadata is not valid JSON ({e})") from None
        except RecursionError:
            raise FaceAlignError(f"{p}: its facealign_config metadata is nested too deeply") from None
        self.config = ModelConfig.from_dict(raw, source=str(p))
        self.scheme = self.config.get_scheme()
        self.decode = meta.get("decode", "in-graph")
        if self.decode not in ("in-graph", "none"):
            raise FaceAlignError(f"{p}: metadata decode must be 'in-graph' or 'none', got {self.decode!r}")
        _check_graph(self.session, self.config, self.scheme.num_points, self.decode, p)
        self.source_sha256 = meta.get("source_sha256", "")
        self.path = p
        self._probe()

    def _probe(self) -> None:
        """Run a batch of two grey crops: a graph's declared output shapes can be symbolic or wrong
        (a graph that answers for the first crop only, or with fewer points), and a graph with
        non-finite weights gives NaN; either is refused at load, not found in a user's results."""
        s, k = self.config.input_size, self.scheme.num_points
        try:
            pts, sc = self.predict_crops(np.full((2, s, s, 3), 128, np.uint8), flip=self.config.flip_test)
        except FaceAlignError:
            raise
        except Exception as e:  # noqa: BLE001 - ORT raises its own exception types
            raise FaceAlignError(f"{self.path}: the graph fails on a batch of 2 crops ({str(e).splitlines()[0][:200]})") from None
        if pts.shape != (2, k, 2) or sc.shape != (2, k):
            raise FaceAlignError(f"{self.path}: on a batch of 2 crops the graph gives points {list(pts.shape)} and scores "
                                 f"{list(sc.shape)}; its metadata says [2, {k}, 2] and [2, {k}]")
        if not (np.isfinite(pts).all() and np.isfinite(sc).all()):
            raise FaceAlignError(f"{self.path}: the graph gives NaN or infinite landmarks for a plain grey crop "
                                 "(non-finite weights)")

    def decode_output(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw head output of a ``decode none`` file -> (points, scores), with the numpy codecs."""
        if self.config.head == "regression":
            return decode_regression_numpy(output, self.config.input_size, self.config.regression_centre)
        return decode_heatmap_numpy(output, self.config.heatmap)

    def predict_crops(self, crops: np.ndarray, flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(B, S, S, 3) uint8 RGB crops -> (points (B, K, 2) float64 crop pixels, scores (B, K)).

        ``flip`` (default the model's ``flip_test``): with ``decode none`` the flip pass is run
        and merged here. An in-graph file exported with flip averaging (``flip_test`` in its
        metadata) always averages; one exported without it gets the mirrored crops as a second
        batch, merged here as the graph would.

        Raises:
            FaceAlignError: ``flip=False`` on a file whose graph averages flips (it cannot be undone).
        """
        x = np.ascontiguousarray(crops.transpose(0, 3, 1, 2))
        flip = self.config.flip_test if flip is None else flip
        in_graph = self.decode == "in-graph"
        if in_graph and self.config.flip_test and not flip:
            raise FaceAlignError(f"{self.path}: flip averaging is built into this ONNX file (exported with "
                                 "--flip); it cannot run without it")
        if not flip or (in_graph and self.config.flip_test):  # one run: plain, or the graph averages
            return self._points(self._session_for(len(x)).run(None, {"image": x}))
        both = np.concatenate([x, np.ascontiguousarray(x[..., ::-1])])
        pts, sc = self._points(self._session_for(len(both)).run(None, {"image": both}))
        return merge_flip_pass(pts, sc, self.scheme, self.config.input_size, self.config.flip_shift)

    def _session_for(self, batch: int) -> Any:
        """The session a batch runs on. Without a thread count from the user, a batch of a face or
        two (a photo or video frame of one face) runs on one thread: beside the detector, which runs
        between two such batches, ONNX Runtime's thread pool slowed FaceAligner().predict down
        (2-core EPYC, YTF-68 val frames, `benchmarks/public_speed.py`: 13.4 ms per frame before,
        8.6 ms after, dlib 18.4 and 17.8 ms in the same runs); larger batches keep the pool."""
        if self._threads or batch > SMALL_BATCH:
            return self.session
        if self._small is None:
            import onnxruntime as ort

            self._small = _ort_session(ort, self.path, 1)
        return self._small

    def _points(self, outs: list) -> tuple[np.ndarray, np.ndarray]:
        """The session's outputs -> (points, scores), decoded here for ``decode none``."""
        if self.decode == "in-graph":
            return outs[0].astype(np.float64), outs[1].astype(np.float32)
        return self.decode_output(np.asarray(outs[0], np.float32))


def _ort_session(ort: Any, path: Path, threads: int | None) -> Any:
    """An ONNX Runtime CPU session of ``path`` with ``threads`` intra-op threads (None: its default)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only: ONNX Runtime's notes on graph optimisation are not the user's to read
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _check_graph(session: Any, cfg: ModelConfig, points: int, decode: str, path: Path) -> None:
    """Raise one line when the graph's fixed input/output sides disagree with its metadata."""
    def fits(shape: list[Any], want: list[Any]) -> bool:  # symbolic (str/None) sides fit anything
        return len(shape) == len(want) and all(not isinstance(a, int) or b is None or a == b for a, b in zip(shape, want))

    s, k = cfg.input_size, points
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or inputs[0].name != "image" or not fits(list(inputs[0].shape), [None, 3, s, s]):
        named = [(i.name, list(i.shape)) for i in inputs]
        raise FaceAlignError(f"{path}: graph input {named} disagrees with its metadata (one 'image' of [B, 3, {s}, {s}])")
    want: list[list[Any]]
    if decode == "in-graph":
        want = [[None, k, 2], [None, k]]
    elif cfg.head == "regression":
        want = [[None, 2 * k]]
    else:
        side = s // cfg.heatmap.stride
        want = [[None, 2, k, side, side]]  # background and foreground logits
    got = [list(o.shape) for o in outputs]
    if len(got) < len(want) or not all(fits(g, w) for g, w in zip(got, want)):
        raise FaceAlignError(f"{path}: graph outputs {got} disagree with its metadata ({cfg.head} head, {k} points, "
                             f"decode {decode}: expected {want})")


def onnx_runner(model: Any, threads: int | None = None, int8: bool = False) -> OnnxRunner:
    """An :class:`OnnxRunner` for a ``.onnx`` path, a zoo name with an ONNX file (its int8 copy
    with ``int8``), or (exported once into the cache, which needs torch) any other model name or file."""
    from facealign.zoo import cache_dir, resolve, resolve_onnx, sha256_file

    if isinstance(model, OnnxRunner):
        return model
    if isinstance(model, (str, Path)):
        onnx_path = resolve_onnx(model, int8)
        if onnx_path is not None:
            return OnnxRunner(onnx_path, threads)
        src = resolve(model)
        digest = sha256_file(src)
        cached = cache_dir() / "onnx" / f"{digest[:16]}.onnx"
        if not cached.is_file():
            from facealign.export.onnx import export_onnx
            from facealign.models.landmark_model import load_model_file

            export_onnx(load_model_file(src), cached, source_sha256=digest)
        return OnnxRunner(cached, threads)
    raise FaceAlignError("backend 'onnx' needs a model name, a model file or an OnnxRunner")


def create_runner(model: Any, backend: str, device: str = "cpu", threads: int | None = None,
                  int8: bool = False) -> TorchRunner | OnnxRunner:
    """The runner of ``backend`` (``onnx`` or ``torch``) for a model name, file or loaded model
    (``int8``: the model's bundled int8 ONNX file; ONNX only)."""
    return onnx_runner(model, threads, int8) if backend == "onnx" else TorchRunner(model, device, threads)
