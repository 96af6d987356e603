"""facealign: facial landmark detection with ACR-loss regression and randomized-rounding heatmaps."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # lazy: `import facealign` stays light; `facealign.FaceAligner` pulls in torch when used
    if name in ("FaceAligner", "FaceResult"):
        from facealign import predict

        return getattr(predict, name)
    raise AttributeError(name)
