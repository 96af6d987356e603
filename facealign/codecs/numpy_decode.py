"""Numpy twins of the torch decoders (torch-free), for models run by ONNX Runtime with ``decode none``.

Each function returns what its torch twin in :mod:`facealign.codecs.regression` /
:mod:`facealign.codecs.heatmap` returns, as numpy: (points (B, K, 2) float64 in crop pixels,
scores (B, K) float32). tests/test_codecs.py holds one parity test per pair.
"""

from __future__ import annotations

import numpy as np

from facealign.codecs.config import REGRESSION_CENTRES, HeatmapConfig
from facealign.errors import ConfigError


def decode_regression_numpy(output: np.ndarray, size: int, centre: str = "pixel") -> tuple[np.ndarray, np.ndarray]:
    """(B, 2K) head output -> points and scores of 1 (twin of ``RegressionCodec.decode``)."""
    pts = REGRESSION_CENTRES[centre](size) - output.reshape(output.shape[0], -1, 2).astype(np.float64) * size
    return pts, np.ones(pts.shape[:2], np.float32)


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Elements per group in top_k_indices: 8 measured fastest of 4-32 (68 maps of 32 x 32: 0.13-0.19 ms a
# face against 0.75-0.86 ms for argpartition over whole maps; 20 faces 3.0 ms against 13.7 ms;
# 2-core EPYC, scratch timing; benchmarks/speed.py prints the int8 file's decoding time a face).
TOPK_GROUP = 8


def top_k_indices(flat: np.ndarray, k: int) -> np.ndarray:
    """(..., N) values -> (..., k) indices of the k largest of each row (in no order).

    The same set as ``argpartition`` (up to ties), found faster: the N values are split into
    groups of :data:`TOPK_GROUP` (elements g, g + G, g + 2G, ... so that their maxima are one
    vectorised reduction); the k largest values lie in the k groups with the largest maxima, so
    only those k * 8 values are partitioned. ``argpartition`` of a whole row costs ~10 us per
    1024 values and every map of every face is a row.
    """
    n = flat.shape[-1]
    groups = -(-n // TOPK_GROUP)
    if groups <= k:
        return np.argpartition(flat, n - k, axis=-1)[..., n - k:]
    lead = flat.shape[:-1]
    rows = flat.reshape(-1, n)
    if groups * TOPK_GROUP != n:  # pad to whole groups with values that never win
        rows = np.concatenate([rows, np.full((len(rows), groups * TOPK_GROUP - n), -np.inf, rows.dtype)], -1)
    group_max = rows.reshape(len(rows), TOPK_GROUP, groups).max(1)  # (R, groups)
    best = np.argpartition(group_max, groups - k, axis=-1)[:, groups - k:]  # (R, k)
    cand = (best[:, :, None] + groups * np.arange(TOPK_GROUP)).reshape(len(rows), k * TOPK_GROUP)
    pick = np.argpartition(np.take_along_axis(rows, cand, -1), k * TOPK_GROUP - k, axis=-1)[:, k * TOPK_GROUP - k:]
    return np.take_along_axis(cand, pick, -1).reshape(*lead, k)


def decode_topk_numpy(fg: np.ndarray, stride: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, H, W) foreground logits -> top-k softmax points (twin of ``decode_topk``)."""
    b, kp, h, w = fg.shape
    flat = fg.reshape(b, kp, h * w).astype(np.float32, copy=False)
    # float32 for the whole-map work (selection, softmax denominator), float64 only for the k
    # winners: 3x faster than all-float64 and the same points within 1e-4 px
    idx = top_k_indices(flat, min(k, h * w))
    vals = np.take_along_axis(flat, idx, -1).astype(np.float64)
    m = vals.max(-1, keepdims=True)  # the top-k hold the map's maximum
    ev = np.exp(vals - m)
    wts = ev / ev.sum(-1, keepdims=True)
    pts = np.stack([(wts * (idx % w)).sum(-1), (wts * (idx // w)).sum(-1)], -1) * stride
    denom = np.exp(flat - m.astype(np.float32)).sum(-1, dtype=np.float64)
    return pts, (ev.sum(-1) / denom).astype(np.float32)


def decode_argmax_numpy(maps: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, H, W) maps -> integer peaks, scores the peak clipped to [0, 1] (twin of ``decode_argmax``)."""
    b, kp, h, w = maps.shape
    flat = maps.reshape(b, kp, h * w).astype(np.float64, copy=False)
    idx = flat.argmax(-1)
    pts = np.stack([idx % w, idx // w], -1).astype(np.float64) * stride
    return pts, np.clip(flat.max(-1), 0, 1).astype(np.float32)


def decode_soft_argmax_numpy(logits: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, H, W) logits -> expectation under a whole-map softmax (twin of ``decode_soft_argmax``)."""
    b, kp, h, w = logits.shape
    p = _softmax(logits.reshape(b, kp, h * w).astype(np.float64, copy=False))
    cols, rows = np.arange(h * w) % w, np.arange(h * w) // w
    return np.stack([(p * cols).sum(-1), (p * rows).sum(-1)], -1) * stride, p.max(-1).astype(np.float32)


def decode_heatmap_numpy(output: np.ndarray, hm: HeatmapConfig) -> tuple[np.ndarray, np.ndarray]:
    """(B, 2, K, H, W) head output -> points and scores (twin of ``HeatmapCodec.decode``)."""
    fg = (output[:, 1] - output[:, 0]) if hm.two_class else output[:, 1]
    if hm.decoder == "topk":  # the same dispatch as HeatmapCodec.decode, with no fallback
        return decode_topk_numpy(fg, hm.stride, hm.topk)
    if hm.decoder == "argmax":
        return decode_argmax_numpy(fg, hm.stride)
    if hm.decoder == "soft_argmax":
        return decode_soft_argmax_numpy(fg, hm.stride)
    raise ConfigError(f"unknown heatmap decoder {hm.decoder!r}")
