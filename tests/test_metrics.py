import numpy as np
import pytest

from facealign.metrics import auc, ced, failure_rate, nme, normalizing_distance, summarize
from facealign.schemes import COFW_29, IBUG_68, WFLW_98, Scheme


def face68(scale=1.0):
    g = np.zeros((1, 68, 2))
    g[0, :, 0] = np.arange(68)
    g[0, 36] = [0, 0]
    g[0, 45] = [100 * scale, 0]
    return g


def test_nme_hand_computed():
    g = face68()
    p = g.copy()
    p[0, 10, 0] += 68.0  # one point off by 68 px -> mean error 1 px
    assert nme(p, g, IBUG_68)[0] == pytest.approx(1 / 100)
    p = g + np.array([3.0, 4.0])  # every point off by 5 px
    assert nme(p, g, IBUG_68)[0] == pytest.approx(5 / 100)


def test_normalizers():
    g = face68()
    g[0, 36:42] = [[0, 0], [2, 1], [4, 1], [6, 0], [4, -1], [2, -1]]  # centroid (3, 0)
    g[0, 42:48] = [[50, 0], [52, 1], [54, 1], [56, 0], [54, -1], [52, -1]]  # centroid (53, 0)
    g[0, 45] = [56, 0]
    assert normalizing_distance(g, IBUG_68, "inter_ocular")[0] == pytest.approx(56.0)
    assert normalizing_distance(g, IBUG_68, "inter_pupil")[0] == pytest.approx(50.0)
    box = np.array([[[0, 0], [8, 0], [0, 2], [8, 2]]], float)
    sch = Scheme("box4", 4, (1, 0, 3, 2), outer_eye_corners=(0, 1))
    assert normalizing_distance(box, sch, "bbox")[0] == pytest.approx(4.0)
    w = np.zeros((1, 98, 2))
    w[0, 60], w[0, 72], w[0, 96], w[0, 97] = [0, 0], [30, 40], [5, 0], [25, 0]
    assert normalizing_distance(w, WFLW_98, "inter_ocular")[0] == pytest.approx(50.0)
    assert normalizing_distance(w, WFLW_98, "inter_pupil")[0] == pytest.approx(20.0)
    c = np.zeros((1, 29, 2))
    c[0, 8], c[0, 9] = [0, 0], [0, 7]
    assert normalizing_distance(c, COFW_29)[0] == pytest.approx(7.0)


def test_fr_auc_ced_hand_computed():
    e = np.array([0.02, 0.05, 0.08, 0.12])
    assert failure_rate(e, 0.1) == 0.25
    assert failure_rate(e, 0.08) == 0.25  # NME > threshold, not >=
    assert failure_rate(np.array([0.081]), 0.08) == 1.0
    # AUC_0.1 = mean(max(0, 0.1 - e)) / 0.1 = (0.08 + 0.05 + 0.02 + 0) / 4 / 0.1
    assert auc(e, 0.1) == pytest.approx(0.375)
    x, y = ced(e, 0.1, step=1e-5)
    assert np.trapezoid(y, x) / 0.1 == pytest.approx(auc(e, 0.1), abs=1e-4)
    assert y[0] == 0 and y[-1] == 0.75
    s = summarize(e)
    assert s["n"] == 4 and s["nme"] == pytest.approx(6.75) and s["fr"] == 25.0 and s["auc"] == pytest.approx(37.5)
    assert s["p50"] == pytest.approx(6.5)


def test_perfect_and_zero_distance():
    g = face68()
    assert nme(g, g, IBUG_68)[0] == 0
    assert auc(np.zeros(3)) == 1.0
    bad = g.copy()
    bad[0, 45] = bad[0, 36]
    with pytest.raises(ValueError, match="zero inter_ocular"):
        nme(g, bad, IBUG_68)
    with pytest.raises(ValueError, match="shape"):
        nme(g[:, :10], g, IBUG_68)
