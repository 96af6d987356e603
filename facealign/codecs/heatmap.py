"""Heatmap codecs: randomized-rounding and Gaussian targets, top-k / argmax / soft-argmax decoding.

Pixel convention (one for encoder and decoder, as in H3R): a point at input-crop pixel x lies at
heatmap coordinate u = x / s (s = stride), and heatmap cell j decodes to input pixel s * j. No
half-pixel offset; the network learns whatever offset its receptive fields have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from facealign.codecs.config import HeatmapConfig
from facealign.codecs.numpy_decode import decode_heatmap_numpy
from facealign.errors import ConfigError


def heatmap_coords(points: torch.Tensor, stride: int) -> torch.Tensor:
    """(B, K, 2) input pixels -> heatmap coordinates u = x / s."""
    return points / stride


def rr_encode(points: torch.Tensor, stride: int, hw: tuple[int, int],
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Randomized rounding: each axis of u rounds up with probability equal to its fractional part,
    independently; a fresh draw on every call (never cache the result).

    Args:
        points: (B, K, 2) input-crop pixels.
        hw: Heatmap (H, W).

    Returns:
        (index (B, K) long, flat index row * W + col of the target cell, clamped to the map;
        inside (B, K) bool, False for points outside the map's extent [0, W-1] x [0, H-1], which the
        loss should ignore).
    """
    h, w = hw
    u = heatmap_coords(points, stride)
    base = torch.floor(u)
    frac = u - base
    draw = torch.rand(frac.shape, generator=generator, dtype=frac.dtype, device=frac.device)
    q = base + (draw < frac).to(u.dtype)
    inside = points_inside(points, stride, hw)
    col = q[..., 0].clamp(0, w - 1).long()
    row = q[..., 1].clamp(0, h - 1).long()
    return row * w + col, inside


def bilinear_map(points: torch.Tensor, stride: int, hw: tuple[int, int]) -> torch.Tensor:
    """The expectation of the randomized-rounding one-hot target: bilinear weights on the four
    neighbours of u. (B, K, 2) -> (B, K, H, W)."""
    h, w = hw
    u = heatmap_coords(points, stride)
    out = torch.zeros(*u.shape[:2], h * w, dtype=u.dtype, device=u.device)
    base = torch.floor(u)
    frac = u - base
    for ax in (0, 1):
        for ay in (0, 1):
            wgt = (frac[..., 0] if ax else 1 - frac[..., 0]) * (frac[..., 1] if ay else 1 - frac[..., 1])
            c = (base[..., 0] + ax).clamp(0, w - 1).long()
            r = (base[..., 1] + ay).clamp(0, h - 1).long()
            out.scatter_add_(2, (r * w + c)[..., None], wgt[..., None])
    return out.view(*u.shape[:2], h, w)


def gaussian_encode(points: torch.Tensor, stride: int, hw: tuple[int, int], sigma: float = 1.0) -> torch.Tensor:
    """Classic target: a Gaussian (peak 1) centred on the *rounded* heatmap cell of u, as in the
    usual HRNet-style pipelines; the rounding is the quantisation the paper removes.
    (B, K, 2) -> (B, K, H, W)."""
    h, w = hw
    q = torch.round(heatmap_coords(points, stride))
    ys = torch.arange(h, dtype=points.dtype, device=points.device).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=points.dtype, device=points.device).view(1, 1, 1, w)
    d2 = (xs - q[..., 0, None, None]) ** 2 + (ys - q[..., 1, None, None]) ** 2
    return torch.exp(-d2 / (2 * sigma * sigma))


def _grid(h: int, w: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    idx = torch.arange(h * w, device=like.device)
    return (idx % w).to(like.dtype), torch.div(idx, w, rounding_mode="floor").to(like.dtype)


def decode_topk(logits: torch.Tensor, stride: int, k: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax over the k largest logits of each map, weighted mean of their cells (H3R's decoder).

    Args:
        logits: (B, K, H, W) foreground logits.

    Returns:
        (points (B, K, 2) in input pixels, scores (B, K): the probability mass of the top-k cells
        under a softmax over the whole map).
    """
    b, kp, h, w = logits.shape
    flat = logits.reshape(b, kp, h * w)
    vals, idx = flat.topk(min(k, h * w), dim=-1)
    wts = torch.softmax(vals, dim=-1)
    cols, rows = (idx % w).to(wts.dtype), torch.div(idx, w, rounding_mode="floor").to(wts.dtype)
    pts = torch.stack([(wts * cols).sum(-1), (wts * rows).sum(-1)], dim=-1) * stride
    # softmax mass of the top k: the sums of exp(x - max) (vals[..., 0] is the max), not two
    # logsumexps, which export to ReduceLogSumExp: 0.37 ms of ONNX Runtime's 4.3 ms a face on one
    # thread, against 0.01 ms for Exp and ReduceSum (2-core EPYC, ORT profiling of the bundled model)
    top = vals[..., :1]
    score = torch.exp(vals - top).sum(-1) / torch.exp(flat - top).sum(-1)
    return pts, score


def decode_argmax(heatmaps: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer peak of each map. Scores: the peak value clipped to [0, 1] (Gaussian targets peak at 1)."""
    b, kp, h, w = heatmaps.shape
    val, idx = heatmaps.reshape(b, kp, h * w).max(dim=-1)
    pts = torch.stack([(idx % w), torch.div(idx, w, rounding_mode="floor")], dim=-1).to(heatmaps.dtype) * stride
    return pts, val.clamp(0, 1)


def decode_soft_argmax(logits: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Expectation under a softmax over the whole map. Scores: the peak probability."""
    b, kp, h, w = logits.shape
    p = torch.softmax(logits.reshape(b, kp, h * w), dim=-1)
    cols, rows = _grid(h, w, p)
    pts = torch.stack([(p * cols).sum(-1), (p * rows).sum(-1)], dim=-1) * stride
    return pts, p.max(-1).values


@dataclass
class HeatmapTarget:
    """Training target of a batch, as the heatmap codec draws it.

    Attributes:
        cells: (B, K) long, flat index row * W + col of each point's target cell: the randomly
            rounded cell (``rr``, a fresh draw on every encode) or the rounded cell (``gaussian``),
            clamped to the map.
        inside: (B, K) bool, False for points outside the map's extent (losses should ignore them).
        maps: (B, K, H, W) float target maps: the one-hot map of ``cells`` (``rr``) or the Gaussian
            around the rounded cell (``gaussian``). One-hot maps are made on first use: R1, the
            default loss, needs only ``cells``, and a 64 x 64 x 98 map per face is a large tensor
            to fill every step for nothing.
    """

    cells: torch.Tensor
    inside: torch.Tensor
    _maps: torch.Tensor | None = None
    _hw: tuple[int, int] = (0, 0)
    _dtype: torch.dtype = torch.float32

    @property
    def maps(self) -> torch.Tensor:
        if self._maps is None:
            self._maps = one_hot_maps(self.cells, self._hw, self._dtype)
        return self._maps


def one_hot_maps(cells: torch.Tensor, hw: tuple[int, int], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, K) flat cell indices -> (B, K, H, W) one-hot maps."""
    h, w = hw
    out = torch.zeros(*cells.shape, h * w, dtype=dtype, device=cells.device)
    out.scatter_(2, cells[..., None], 1)
    return out.view(*cells.shape, h, w)


def points_inside(points: torch.Tensor, stride: int, hw: tuple[int, int]) -> torch.Tensor:
    """(B, K) bool: the point's heatmap coordinate lies within [0, W-1] x [0, H-1]."""
    h, w = hw
    u = heatmap_coords(points, stride)
    return (u[..., 0] >= 0) & (u[..., 0] <= w - 1) & (u[..., 1] >= 0) & (u[..., 1] <= h - 1)


@dataclass
class HeatmapCodec:
    """Codec of a heatmap head whose output is (B, 2, K, H, W) (channel 1 = foreground logits); a
    :class:`~facealign.codecs.protocol.Codec` of :class:`HeatmapTarget`.

    Attributes:
        size: Input crop side S.
        settings: Stride, target, decoder, top-k, sigma and two-class flag
            (:class:`facealign.codecs.config.HeatmapConfig`).
    """

    size: int
    settings: HeatmapConfig = field(default_factory=HeatmapConfig)

    def __post_init__(self) -> None:
        self.settings.check(self.size)

    @property
    def stride(self) -> int:
        return self.settings.stride

    @property
    def hw(self) -> tuple[int, int]:
        return self.size // self.stride, self.size // self.stride

    def encode(self, points: torch.Tensor, generator: torch.Generator | None = None) -> HeatmapTarget:
        """(B, K, 2) crop pixels -> the batch's :class:`HeatmapTarget`, on the points' device.

        Args:
            generator: Source of the randomized-rounding draws (on the points' device); None uses
                the global torch RNG of that device, which training checkpoints and restores.
        """
        hm = self.settings
        if hm.target == "rr":
            cells, inside = rr_encode(points, hm.stride, self.hw, generator)
            return HeatmapTarget(cells, inside, _hw=self.hw, _dtype=points.dtype)
        h, w = self.hw
        q = torch.round(heatmap_coords(points, hm.stride))
        cells = q[..., 1].clamp(0, h - 1).long() * w + q[..., 0].clamp(0, w - 1).long()
        maps = gaussian_encode(points, hm.stride, self.hw, hm.sigma)
        return HeatmapTarget(cells, points_inside(points, hm.stride, self.hw), maps)

    def foreground(self, output: torch.Tensor) -> torch.Tensor:
        """(B, 2, K, H, W) head output -> (B, K, H, W) maps to decode."""
        return output[:, 1] - output[:, 0] if self.settings.two_class else output[:, 1]

    def decode(self, output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 2, K, H, W) head output -> (points (B, K, 2) in crop pixels, scores (B, K))."""
        fg = self.foreground(output)
        decoder = self.settings.decoder  # the same dispatch as decode_heatmap_numpy, with no fallback
        if decoder == "topk":
            return decode_topk(fg, self.stride, self.settings.topk)
        if decoder == "argmax":
            return decode_argmax(fg, self.stride)
        if decoder == "soft_argmax":
            return decode_soft_argmax(fg, self.stride)
        raise ConfigError(f"unknown heatmap decoder {decoder!r}")

    def decode_numpy(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 2, K, H, W) head output -> (points (B, K, 2) float64, scores (B, K))."""
        return decode_heatmap_numpy(output, self.settings)
