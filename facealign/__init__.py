"""facealign: facial landmark detection with ACR-loss regression and randomized-rounding heatmaps."""

__version__ = "0.1.0"

# lazy: `import facealign` stays light; these pull in their sub-packages (and torch) when used
_LAZY = {"FaceAligner": "facealign.predict", "FaceResult": "facealign.predict", "load_model": "facealign.zoo",
         "list_models": "facealign.zoo"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
