"""One-Euro filter (Casiez et al., CHI 2012) for landmark tracks.

Each coordinate is low-pass filtered with a cutoff that rises with its speed: slow motion (jitter)
is smoothed hard, fast motion passes with little lag. With the defaults (min_cutoff 1.0 Hz,
beta 0.05 per pixel/s of speed, derivative cutoff 1 Hz) at 25 fps, a still point's jitter is
cut by a low-pass with time constant 1 / (2 pi min_cutoff) = 0.16 s, i.e. about 4 frames of lag
on slow drifts; fast moves raise the cutoff and the lag drops to about a frame.
"""

from __future__ import annotations

import math

import numpy as np


class OneEuroFilter:
    """One filter per track. ``fps`` gives the time step when a call brings no timestamp."""

    def __init__(self, fps: float, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.dt = self.default_dt = 1.0 / fps
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.t: float | None = None

    def _alpha(self, cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / self.dt)

    def reset(self) -> None:
        self.x = self.dx = self.t = None

    def __call__(self, x: np.ndarray, t: float | None = None) -> np.ndarray:
        """Filter ``x`` (any shape) observed at time ``t`` seconds (None: one ``1 / fps`` step on).

        Variable-frame-rate video: the real time step since the last call sets the smoothing, so
        a frame that comes late moves the estimate as far as its time warrants.
        """
        x = np.asarray(x, np.float64)
        step = self.default_dt if t is None or self.t is None else t - self.t
        self.dt = step if step > 0 else self.default_dt
        self.t = t
        if self.x is None or self.x.shape != x.shape:
            self.x, self.dx = x.copy(), np.zeros_like(x)
            return x.astype(np.float32)
        assert self.dx is not None  # set with self.x
        dx = (x - self.x) / self.dt
        a_d = self._alpha(self.d_cutoff)
        self.dx = a_d * dx + (1 - a_d) * self.dx
        cutoff = self.min_cutoff + self.beta * np.abs(self.dx)
        a = self._alpha(cutoff)
        self.x = a * x + (1 - a) * self.x
        return self.x.astype(np.float32)
