"""facealign: facial landmark detection with ACR-loss regression and randomized-rounding heatmaps."""

__version__ = "0.1.0"
