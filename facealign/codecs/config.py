"""Codec settings (torch-free: the ONNX Runtime path reads them without importing torch)."""

from __future__ import annotations

from dataclasses import dataclass

from facealign.constants import H3R_STRIDE, H3R_TOPK
from facealign.errors import ConfigError

TARGETS = ("rr", "gaussian")
DECODERS = ("topk", "argmax", "soft_argmax")


# Where the regression head's normalised 0 sits in the crop: facealign's pixel-centre convention,
# or the ACR authors' toolkit (S / 2), which models converted from them need.
REGRESSION_CENTRES = {"pixel": lambda size: (size - 1) / 2.0, "half": lambda size: size / 2.0}


@dataclass
class HeatmapConfig:
    """Heatmap-head settings (ignored by the regression head).

    Attributes:
        stride: Output stride s (heatmap side = input_size / s).
        target: ``rr`` (randomized rounding, one-hot) or ``gaussian`` (classic baseline).
        decoder: ``topk`` (softmax over the k best logits), ``argmax`` or ``soft_argmax``.
        topk: k. sigma: Gaussian target width in heatmap cells.
        two_class: Decode channel 1 - channel 0 (for the per-pixel two-class loss R2).
    """

    stride: int = H3R_STRIDE
    target: str = "rr"
    decoder: str = "topk"
    topk: int = H3R_TOPK
    sigma: float = 1.0
    two_class: bool = False

    def check(self, input_size: int) -> None:
        """Raise ValueError when these settings cannot work with crops of side ``input_size``."""
        if self.stride < 1 or input_size % self.stride:
            raise ConfigError(f"input size {input_size} is not a multiple of the heatmap stride {self.stride}")
        if self.target not in TARGETS:
            raise ConfigError(f"unknown heatmap target {self.target!r}; choose one of {list(TARGETS)}")
        if self.decoder not in DECODERS:
            raise ConfigError(f"unknown decoder {self.decoder!r}; choose one of {list(DECODERS)}")
        if self.decoder == "topk" and (isinstance(self.topk, bool) or not isinstance(self.topk, int) or self.topk < 1):
            raise ConfigError(f"heatmap topk must be a whole number >= 1, got {self.topk!r}")
