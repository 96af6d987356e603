"""Evaluation metrics: NME with named normalisers, failure rate, AUC, CED."""

from facealign.metrics.nme import (
                                   NORMALIZERS,
                                   auc,
                                   ced,
                                   failure_rate,
                                   nme,
                                   normalizing_distance,
                                   point_errors,
                                   summarize,
)
from facealign.metrics.plot import plot_ced

__all__ = ["NORMALIZERS", "nme", "normalizing_distance", "point_errors", "failure_rate", "ced", "auc", "summarize",
           "plot_ced"]
