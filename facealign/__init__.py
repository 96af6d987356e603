"""facealign: facial landmark detection with ACR-loss regression and randomized-rounding heatmaps."""

from facealign.utils.lazy import lazy_getattr

__version__ = "0.1.0"

# lazy: `import facealign` stays light; these pull in their sub-packages (and torch) when used
_EXPORTS = {"FaceAligner": "facealign.predict", "FaceResult": "facealign.predict", "load_model": "facealign.zoo",
            "list_models": "facealign.zoo"}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
