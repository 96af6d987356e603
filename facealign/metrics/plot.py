"""CED curve plots (PNG), several methods on one figure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from facealign.metrics.nme import auc, ced


def plot_ced(curves: Mapping[str, np.ndarray], path: str | Path, threshold: float = 0.1,
             title: str = "Cumulative error distribution") -> Path:
    """Draw the CED of each method's per-face NMEs and save a PNG (written atomically).

    Args:
        curves: Method name -> (N,) per-face NME (fractions).
        path: Output ``.png``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from facealign.utils.io import atomic_write

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for name, e in curves.items():
        x, y = ced(e, threshold)
        ax.plot(x * 100, y * 100, label=f"{name} (AUC {auc(e, threshold) * 100:.1f}%)")
    ax.set_xlim(0, threshold * 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("NME (%)")
    ax.set_ylabel("faces with NME below (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = Path(path)
    atomic_write(out, lambda t: fig.savefig(t, format="png"))
    plt.close(fig)
    return out
