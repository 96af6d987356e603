"""Where the five alignment points land in an aligned crop."""

from __future__ import annotations

import numpy as np

from facealign.errors import ConfigError

# ArcFace / insightface's 112 x 112 template (eye centres, nose tip, mouth corners; image-left
# first), the alignment face-recognition models are trained with.
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]])

TEMPLATES = ("arcface", "ffhq")


def template_points(size: int = 112, padding: float = 0.0) -> np.ndarray:
    """(5, 2) ArcFace template points for a ``size`` x ``size`` crop.

    ``padding``: extra margin on each side, as a fraction of the ArcFace crop's side (0.25 shows
    a face 1.5x smaller in the same crop side, with more of the head around it).
    """
    if not 0.0 <= padding <= 2.0:
        raise ConfigError(f"padding must be in [0, 2], got {padding}")
    unit = ARCFACE_112 / 112.0
    return ((unit - 0.5) / (1.0 + 2.0 * padding) + 0.5) * size
