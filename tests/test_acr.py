import json
import math

import numpy as np
import pytest
import torch

from facealign.codecs import RegressionCodec, decode_regression, encode_regression
from facealign.data.sample import LandmarkSet
from facealign.losses import (
    ACRLoss,
    VarianceSchedule,
    acr_loss,
    adaptive_wing_loss,
    difficulty,
    l1_loss,
    l2_loss,
    wing_loss,
)
from facealign.models.config import ModelConfig
from facealign.shape import fit_shape_pca, load_shape_pca, smooth_face, training_shapes


def test_acr_value_and_gradient_hand_computed():
    pred = torch.zeros(2, 4, requires_grad=True)
    target = torch.tensor([[0.1, -0.2, 0.3, 0.0], [2.0, 0.0, 0.0, 0.5]])
    phi = torch.tensor([[0.0, 1.0, 0.5, 0.0], [1.0, 0.0, 0.0, 0.25]])
    loss = acr_loss(pred, target, phi, lam=1.0)
    small = [math.log1p(0.1 ** 2), math.log1p(0.2), math.log1p(0.3 ** 1.5), 0.0, 0.0, 0.0, math.log1p(0.5 ** 1.75)]
    large = 2.0 ** 2 + (1.0 * math.log(2) - 1)
    assert loss.item() == pytest.approx(100 * sum(small) / 8 + 100 * large / 8, rel=1e-6)
    loss.backward()
    g = pred.grad
    # d/dpred of ln(1 + |e|^p) with e = pred - target: p |e|^(p-1) / (1 + |e|^p) * sign(e)
    assert g[0, 0].item() == pytest.approx(100 / 8 * -(2 * 0.1) / (1 + 0.01), rel=1e-5)
    assert g[0, 1].item() == pytest.approx(100 / 8 * (1.0 / 1.2), rel=1e-5)
    assert g[0, 2].item() == pytest.approx(100 / 8 * -(1.5 * 0.3 ** 0.5) / (1 + 0.3 ** 1.5), rel=1e-5)
    assert g[1, 0].item() == pytest.approx(100 / 8 * 2 * -2.0, rel=1e-6)  # large branch: 2e
    assert g[0, 3].item() == 0.0


def test_phi0_is_l2_like_phi1_is_l1_like_near_zero():
    e = torch.tensor([1e-3, 1e-2], requires_grad=True)
    l0 = acr_loss(e[None], torch.zeros(1, 2), torch.zeros(1, 2))
    g0 = torch.autograd.grad(l0, e)[0]
    # L2-like: gradient proportional to e, vanishing as e -> 0
    assert g0[1] / g0[0] == pytest.approx(10.0, rel=1e-3)
    l1 = acr_loss(e[None], torch.zeros(1, 2), torch.ones(1, 2))
    g1 = torch.autograd.grad(l1, e)[0]
    # L1-like: gradient magnitude ~ lambda * 100 / n for any small e
    assert g1[0] == pytest.approx(50.0 / (1 + 1e-3), rel=1e-4) and g1[1] == pytest.approx(50.0 / (1 + 1e-2), rel=1e-4)
    assert g1[0] > 100 * g0[0]


def test_large_branch_and_continuity_flag():
    e = torch.tensor([[1.5]])
    phi = torch.tensor([[0.3]])
    assert acr_loss(e, torch.zeros(1, 1), phi).item() == pytest.approx(100 * (2.25 + 0.3 * math.log(2) - 1), rel=1e-6)
    lam = 2.0
    cont = acr_loss(e, torch.zeros(1, 1), phi, lam=lam, continuous=True).item()
    assert cont == pytest.approx(100 * (2.25 + lam * math.log(2) - 1), rel=1e-6)
    below = acr_loss(torch.tensor([[1.0]]), torch.zeros(1, 1), phi, lam=lam, continuous=True).item()
    above = acr_loss(torch.tensor([[1.0 + 1e-6]]), torch.zeros(1, 1), phi, lam=lam, continuous=True).item()
    assert below == pytest.approx(above, abs=1e-3)


def test_difficulty_per_coordinate_and_guard():
    t = torch.tensor([[0.0, 0.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]], requires_grad=True)
    sf = torch.tensor([[0.5, 0.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    phi = difficulty(t, sf)
    assert phi.tolist() == [[0.5, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    assert not phi.requires_grad


def test_pca_full_variance_reproduces_and_clipping(ytf_train):
    shapes = training_shapes(ytf_train, ModelConfig(input_size=128), with_flips=True)
    pca = fit_shape_pca(shapes)
    s = torch.as_tensor(shapes[:20], dtype=torch.float32)
    mean, comps, bound = pca.torch_parts(100)
    # bounds are 3 sqrt(lambda): a typical shape is within them, so it is reproduced
    rec = smooth_face(s.double(), mean.double(), comps.double(), bound.double() * 1e6)
    torch.testing.assert_close(rec, s.double(), atol=1e-5, rtol=0)
    mean, comps, bound = pca.torch_parts(80)
    far = mean + 50 * bound[0] * comps[:, 0]
    coeff = (smooth_face(far[None], mean, comps, bound) - mean) @ comps
    assert torch.all(coeff.abs() <= bound * (1 + 1e-4))
    assert coeff[0, 0] == pytest.approx(bound[0].item(), rel=1e-4)
    torch.testing.assert_close(smooth_face(mean[None], mean, comps, bound)[0], mean)
    assert pca.n_components(80) <= pca.n_components(85) <= pca.n_components(90) <= pca.n_components(95)
    ratio = np.cumsum(pca.eigenvalues) / pca.eigenvalues.sum()
    k = pca.n_components(90)
    assert ratio[k - 1] > 0.9 and (k == 1 or ratio[k - 2] <= 0.9)


def test_pca_cli_and_file(tmp_path, capsys):
    from conftest import YTF

    from facealign.cli.main import main

    out = tmp_path / "shapes.npz"
    assert main(["pca", "--data", f"csv:{YTF / 'val' / 'landmarks.csv'}", "--variance", "80", "95", "--out", str(out)]) == 0
    assert "components" in capsys.readouterr().out
    pca = load_shape_pca(out)
    with np.load(out) as z:
        assert list(z["variances"]) == [80, 95] and list(z["kept"]) == [pca.n_components(80), pca.n_components(95)]
        info = json.loads(str(z["info"]))
    assert info["draws"] == 9 and info["shapes"] == 763 * (2 + 9)  # each face, its mirror, 9 augmented copies
    plain = tmp_path / "plain.npz"
    assert main(["pca", "--data", f"csv:{YTF / 'val' / 'landmarks.csv'}", "--draws", "0", "--no-flips", "--out", str(plain)]) == 0
    assert "of 763 shapes" in capsys.readouterr().out


def test_variance_schedule():
    s = VarianceSchedule()
    assert [s(e) for e in (0, 15, 16, 30, 31, 70, 71, 100, 149)] == [80, 80, 85, 85, 90, 90, 95, 95, 95]
    sc = VarianceSchedule.scaled(30)
    assert sc.milestones == (3, 6, 14)


def test_acr_module_uses_schedule(ytf_train):
    pca = fit_shape_pca(training_shapes(ytf_train, ModelConfig(input_size=64)))
    loss = ACRLoss(pca)
    loss.set_epoch(0)
    assert loss.variance == 80
    loss.set_epoch(80)
    assert loss.variance == 95
    t = torch.as_tensor(training_shapes(ytf_train, ModelConfig(input_size=64))[:4], dtype=torch.float32)
    p = (t + 0.01).requires_grad_()
    val = loss(p, t)
    val.backward()
    assert val.item() > 0 and torch.isfinite(p.grad).all()


def test_regression_codec_round_trip_and_flip_symmetry():
    pts = torch.rand(3, 68, 2) * 127
    out = encode_regression(pts, 128)
    torch.testing.assert_close(decode_regression(out, 128), pts)
    # centre minus coordinate: a point left of centre has a positive x~
    assert encode_regression(torch.tensor([[[10.0, 63.5]]]), 128)[0, 0] > 0
    mirrored = pts.clone()
    mirrored[..., 0] = 127 - mirrored[..., 0]
    torch.testing.assert_close(encode_regression(mirrored, 128)[:, 0::2], -out[:, 0::2])
    p, s = RegressionCodec(128).decode(out)
    assert s.shape == (3, 68) and torch.all(s == 1)


def test_baselines_hand_computed():
    p, t = torch.tensor([[1.0, -3.0]]), torch.tensor([[0.0, 0.0]])
    assert l2_loss(p, t).item() == pytest.approx(5.0)
    assert l1_loss(p, t).item() == pytest.approx(2.0)
    w = wing_loss(torch.tensor([[1.0, 15.0]]), torch.zeros(1, 2), 10.0, 2.0).item()
    c = 10 - 10 * math.log(1 + 5)
    assert w == pytest.approx((10 * math.log(1.5) + 15 - c) / 2)
    # wing is continuous at |x| = w
    assert wing_loss(torch.tensor([[10.0 - 1e-5]]), torch.zeros(1, 1)).item() == pytest.approx(
        wing_loss(torch.tensor([[10.0]]), torch.zeros(1, 1)).item(), abs=1e-4)
    # adaptive wing: continuous at theta, zero at zero error
    y = torch.tensor([[0.3]])
    a = adaptive_wing_loss(y + 0.5 - 1e-6, y).item()
    b = adaptive_wing_loss(y + 0.5 + 1e-6, y).item()
    assert a == pytest.approx(b, abs=1e-4)
    assert adaptive_wing_loss(y, y).item() == 0.0
    assert adaptive_wing_loss(torch.tensor([[0.1]]), torch.tensor([[0.0]])).item() == pytest.approx(
        14 * math.log1p(0.1 ** 2.1), rel=1e-5)


def test_shape_model_fitted_on_augmented_copies_spans_rotated_faces(ytf_train, ytf_val):
    """The authors fit the shape model on augmented annotations (+-20 degree rotations): with
    ``draws`` augmented copies per face, the Smooth-Face of a turned *val* face stays closer to it
    at every variance level of training; without them the basis has never seen a rotation and
    pulls a turned face back towards upright."""
    from facealign.data.augment import AugmentConfig
    from facealign.data.crop import crop_matrix, transform_points

    spec = ModelConfig(input_size=128)
    geometry = AugmentConfig(flip=0.0, rotation=20.0, rotation_prob=1.0)
    train = LandmarkSet(ytf_train.name, ytf_train.scheme, ytf_train.samples[::4])
    plain = fit_shape_pca(training_shapes(train, spec, False))
    drawn = training_shapes(train, spec, False, geometry, draws=4, seed=0)
    assert len(drawn) == 5 * len(train)
    augmented = fit_shape_pca(drawn)
    faces = ytf_val.samples[::10]

    def val_shapes(rotation: float) -> torch.Tensor:
        pts = [transform_points(s.landmarks, crop_matrix(s.landmark_box(), 128, 1.25, rotation_deg=rotation)) for s in faces]
        return encode_regression(torch.as_tensor(np.stack(pts)), 128).float()

    def error_px(pca, shapes, variance) -> float:  # mean |Smooth-Face - face| in crop pixels
        return float((smooth_face(shapes, *pca.torch_parts(variance)) - shapes).abs().mean()) * 128

    upright, turned = val_shapes(0.0), val_shapes(15.0)
    for variance in (80, 85, 90, 95):  # each level of the variance schedule
        assert error_px(augmented, turned, variance) < 0.9 * error_px(plain, turned, variance)
    # at 95 %: turning a face costs the augmented model little, the plain one much (measured 5 % vs 60 %)
    assert error_px(augmented, turned, 95) < 1.2 * error_px(augmented, upright, 95)
    assert error_px(plain, turned, 95) > 1.4 * error_px(plain, upright, 95)
    # the same draws again: a seeded fit
    np.testing.assert_array_equal(drawn, training_shapes(train, spec, False, geometry, draws=4, seed=0))


def test_training_fits_the_shape_model_on_the_runs_augmentation(ytf_train, tmp_path):
    from conftest import tiny_config

    from facealign.train.config import config_from_dict
    from facealign.train.objective import fit_pca_for

    data = LandmarkSet(ytf_train.name, ytf_train.scheme, ytf_train.samples[:40])
    for draws in (0, 3):
        cfg = config_from_dict(tiny_config(tmp_path, **{"loss.pca_draws": draws, "augment.flip": 0.0}))
        want = fit_shape_pca(training_shapes(data, cfg.model, False, cfg.augment, draws, cfg.seed))
        np.testing.assert_allclose(fit_pca_for(cfg, data).eigenvalues, want.eigenvalues)
    assert config_from_dict(tiny_config(tmp_path)).loss.pca_draws == 9  # as the authors' 10 shapes per face
