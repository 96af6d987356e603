"""facealign: facial landmark detection with ACR-loss regression and randomized-rounding heatmaps."""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from facealign.utils.lazy import lazy_getattr

try:  # one version source: pyproject.toml, through the installed package's metadata
    __version__ = version("facealign")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

# lazy: `import facealign` stays light; these pull in their sub-packages (and torch) when used
_EXPORTS = {"FaceAligner": "facealign.predict", "FaceResult": "facealign.predict", "load_model": "facealign.zoo",
            "list_models": "facealign.zoo"}
__getattr__ = lazy_getattr(__name__, _EXPORTS)

if TYPE_CHECKING:  # type checkers see the real classes; at run time they load on first use
    from facealign.predict import FaceAligner, FaceResult
    from facealign.zoo import list_models, load_model

__all__ = ["FaceAligner", "FaceResult", "list_models", "load_model", "__version__"]
