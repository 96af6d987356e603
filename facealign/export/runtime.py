"""ONNX Runtime backend: the landmark stage without torch (numpy + OpenCV + onnxruntime)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facealign.errors import FaceAlignError
from facealign.models.config import ModelConfig


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def decode_numpy(output: np.ndarray, cfg: ModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """Numpy twin of the torch codecs, for ``decode none`` exports. Returns (points (B, K, 2), scores (B, K))."""
    s = cfg.input_size
    if cfg.head == "regression":
        pts = (s - 1) / 2.0 - output.reshape(output.shape[0], -1, 2).astype(np.float64) * s
        return pts, np.ones(pts.shape[:2], np.float32)
    hm = cfg.heatmap
    fg = (output[:, 1] - output[:, 0]) if hm.two_class else output[:, 1]
    b, k, h, w = fg.shape
    flat = fg.reshape(b, k, h * w).astype(np.float64 if hm.decoder != "topk" else np.float32, copy=False)
    if hm.decoder == "argmax":
        idx = flat.argmax(-1)
        pts = np.stack([idx % w, idx // w], -1).astype(np.float64) * hm.stride
        return pts, np.clip(flat.max(-1), 0, 1).astype(np.float32)
    if hm.decoder == "soft_argmax":
        p = _softmax(flat)
        cols, rows = np.arange(h * w) % w, np.arange(h * w) // w
        return np.stack([(p * cols).sum(-1), (p * rows).sum(-1)], -1) * hm.stride, p.max(-1).astype(np.float32)
    kk = min(hm.topk, h * w)
    # float32 for the whole-map work (selection, softmax denominator), float64 only for the k
    # winners: 3x faster than all-float64 and the same points within 1e-4 px
    idx = np.argpartition(flat, h * w - kk, axis=-1)[..., h * w - kk:]
    vals = np.take_along_axis(flat, idx, -1).astype(np.float64)
    m = vals.max(-1, keepdims=True)  # the top-k hold the map's maximum
    ev = np.exp(vals - m)
    wts = ev / ev.sum(-1, keepdims=True)
    pts = np.stack([(wts * (idx % w)).sum(-1), (wts * (idx // w)).sum(-1)], -1) * hm.stride
    denom = np.exp(flat - m.astype(np.float32)).sum(-1, dtype=np.float64)
    return pts, (ev.sum(-1) / denom).astype(np.float32)


class OnnxLandmarkModel:
    """A facealign ONNX file run by ONNX Runtime, with the interface the aligner needs.

    Args:
        path: ``.onnx`` written by :func:`facealign.export.export_onnx`.
        threads: Intra-op threads (None: ONNX Runtime's default).
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise FaceAlignError("the ONNX backend needs onnxruntime: pip install 'facealign[onnx]'") from None
        p = Path(path)
        if not p.is_file():
            raise FaceAlignError(f"{p}: ONNX model file not found")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - ORT raises its own exception types
            raise FaceAlignError(f"{p}: not a loadable ONNX model ({str(e).splitlines()[0][:200]})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("format") != "facealign" or "facealign_config" not in meta:
            raise FaceAlignError(f"{p}: an ONNX model, but not one exported by facealign (no facealign metadata)")
        self.config = ModelConfig.from_dict(json.loads(meta["facealign_config"]), source=str(p))
        self.scheme = self.config.get_scheme()
        self.decode = meta.get("decode", "in-graph")
        self.source_sha256 = meta.get("source_sha256", "")
        self.path = p

    def predict_crops(self, crops: np.ndarray, flip: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(B, S, S, 3) uint8 RGB crops -> (points (B, K, 2) float64 crop pixels, scores (B, K)).

        With in-graph decoding, flip averaging is baked into the graph as exported; with
        ``decode none`` it is done here (``flip``, default the model's ``flip_test``)."""
        x = np.ascontiguousarray(crops.transpose(0, 3, 1, 2))
        if self.decode == "in-graph":
            outs = self.session.run(None, {"image": x})
            return outs[0].astype(np.float64), outs[1].astype(np.float32)
        flip = self.config.flip_test if flip is None else flip
        if not flip:
            return decode_numpy(self.session.run(None, {"image": x})[0], self.config)
        both = np.concatenate([x, np.ascontiguousarray(x[..., ::-1])])
        pts, sc = decode_numpy(self.session.run(None, {"image": both})[0], self.config)
        b, perm = len(x), list(self.scheme.flip_perm)
        fp, fs = pts[b:, perm].copy(), sc[b:, perm]
        fp[..., 0] = self.config.input_size - 1 - fp[..., 0]
        return (pts[:b] + fp) / 2, (sc[:b] + fs) / 2
