
import numpy as np
import pytest
import torch

from facealign.codecs.heatmap import (
    HeatmapCodec,
    bilinear_map,
    decode_argmax,
    decode_soft_argmax,
    decode_topk,
    gaussian_encode,
    rr_encode,
)
from facealign.models import create_model


def test_rr_expectation_equals_bilinear_weights():
    g = torch.Generator().manual_seed(0)
    pts = torch.tensor([[[13.3, 7.9], [40.0, 21.75], [2.6, 58.2]]])
    hw = (16, 16)
    draws = 20000
    counts = torch.zeros(1, 3, 256)
    for _ in range(20):
        idx, inside = rr_encode(pts.expand(draws // 20, -1, -1), 4, hw, g)
        counts += torch.nn.functional.one_hot(idx, 256).sum(0, keepdim=True).float()
    freq = counts / draws
    expected = bilinear_map(pts, 4, hw).reshape(1, 3, 256)
    assert torch.all(inside)
    # each cell's frequency is binomial: allow 5 standard errors
    se = torch.sqrt(expected * (1 - expected) / draws)
    assert torch.all((freq - expected).abs() <= 5 * se + 1e-4)
    # unbiased: the mean drawn coordinate equals u
    cols, rows = (torch.arange(256) % 16).float(), (torch.arange(256) // 16).float()
    mean = torch.stack([(freq * cols).sum(-1), (freq * rows).sum(-1)], -1)
    torch.testing.assert_close(mean, pts / 4, atol=0.02, rtol=0)  # 5 standard errors


def test_rr_redraws_and_axes_independent():
    pts = torch.tensor([[[4 * 3.5, 4 * 5.5]]]).expand(4000, -1, -1)
    idx, _ = rr_encode(pts, 4, (16, 16), torch.Generator().manual_seed(1))
    col, row = idx % 16, idx // 16
    assert set(col.unique().tolist()) == {3, 4} and set(row.unique().tolist()) == {5, 6}
    c_up, r_up = (col == 4).float(), (row == 6).float()
    # independence: P(up, up) = P(up) P(up) = 0.25
    assert abs((c_up * r_up).mean().item() - 0.25) < 0.03
    a, _ = rr_encode(pts[:50], 4, (16, 16))
    b, _ = rr_encode(pts[:50], 4, (16, 16))
    assert not torch.equal(a, b)


def test_points_outside_map_are_masked_and_clamped():
    pts = torch.tensor([[[-9.0, 10.0], [10.0, 70.0], [30.0, 30.0]]])
    idx, inside = rr_encode(pts, 4, (16, 16))
    assert inside.tolist() == [[False, False, True]]
    assert idx.min() >= 0 and idx.max() < 256


@pytest.mark.parametrize("stride", [4, 8, 16])
def test_decoding_the_ideal_map_is_lossless_and_argmax_is_not(stride):
    size = 256
    hw = (size // stride, size // stride)
    rng = np.random.default_rng(stride)
    pts = torch.tensor(rng.uniform(0, size - stride - 1, (1, 2000, 2)), dtype=torch.float64)
    ideal = bilinear_map(pts, stride, hw)
    dec, score = decode_topk(torch.log(ideal.clamp_min(1e-30)), stride, 9)
    assert (dec - pts).norm(dim=-1).max() <= 0.01
    assert torch.all(score > 0.99)
    am, _ = decode_argmax(ideal, stride)
    err = (am - pts).norm(dim=-1).mean().item()
    # nearest-cell rounding: E||err|| = 0.3826 s for uniform fractional parts
    assert err == pytest.approx(0.3826 * stride, rel=0.05)
    gm, _ = decode_argmax(gaussian_encode(pts, stride, hw), stride)
    assert (gm - pts).norm(dim=-1).mean().item() == pytest.approx(0.3826 * stride, rel=0.05)


def test_soft_argmax_and_topk_on_sharp_map():
    logits = torch.full((1, 1, 8, 8), -50.0)
    logits[0, 0, 2, 5] = 10.0
    for dec in (decode_topk(logits, 4), decode_soft_argmax(logits, 4)):
        torch.testing.assert_close(dec[0], torch.tensor([[[20.0, 8.0]]]))


def test_r1_loss_minimiser_decodes_to_the_point():
    """Free logits trained with randomized-rounding CE converge to the bilinear map, so the
    top-k decoder recovers the sub-pixel point (the method's central claim, on a toy)."""
    torch.manual_seed(0)
    stride, hw = 8, (8, 8)
    pt = torch.tensor([[[21.0, 43.6]]])
    logits = torch.zeros(1, 64, requires_grad=True)
    opt = torch.optim.Adam([logits], lr=0.05)
    for _ in range(400):
        idx, _ = rr_encode(pt.expand(256, -1, -1), stride, hw)
        loss = torch.nn.functional.cross_entropy(logits.expand(256, -1), idx[:, 0])
        opt.zero_grad()
        loss.backward()
        opt.step()
    dec, _ = decode_topk(logits.detach().view(1, 1, 8, 8), stride, 9)
    assert (dec - pt).norm().item() < 0.25  # 1/32 of a cell; argmax would be off by up to half a cell (4 px)


def test_codec_validation():
    from facealign.models import HeatmapConfig

    with pytest.raises(ValueError, match="multiple of the heatmap stride"):
        HeatmapCodec(100, HeatmapConfig(stride=16))
    with pytest.raises(ValueError, match="unknown decoder"):
        HeatmapCodec(128, HeatmapConfig(decoder="mean"))


@pytest.mark.parametrize("backbone,size,stride,params", [("mobilenetv2", 128, 4, 0.59), ("mobilenetv2", 128, 16, 0.59),
                                                         ("hrnet_w18", 256, 4, 9.67)])
def test_heatmap_models(backbone, size, stride, params):
    from facealign.models.landmark_model import HeatmapConfig

    m = create_model(backbone, head="heatmap", input_size=size, heatmap=HeatmapConfig(stride=stride)).eval()
    n = sum(p.numel() for p in m.parameters()) / 1e6
    assert n == pytest.approx(params, abs=0.02)
    out = m(torch.rand(1, 3, size, size))
    assert out.shape == (1, 2, 68, size // stride, size // stride)


def test_flip_tta_is_mirror_consistent():
    """With flip averaging, the prediction on a mirrored crop is exactly the mirror of the
    prediction on the crop (labels permuted) — for any weights."""
    torch.manual_seed(0)
    for head in ("regression", "heatmap"):
        m = create_model("mobilenetv2", head=head, input_size=64, flip_test=True).eval()
        x = torch.rand(2, 3, 64, 64)
        p, _ = m.predict(x)
        q, _ = m.predict(x.flip(3))
        perm = list(m.scheme.flip_perm)
        mirrored = q[:, perm].clone()
        mirrored[..., 0] = 63 - mirrored[..., 0]
        torch.testing.assert_close(mirrored, p, atol=1e-4, rtol=0)


def test_heatmap_training_runs_and_checks_loss_target(tmp_path):
    from conftest import tiny_config

    from facealign.errors import ConfigError
    from facealign.train import train
    from facealign.train.config import config_from_dict

    cfg = tiny_config(tmp_path, epochs=1, **{"model.head": "heatmap", "loss.name": "rr_ce"})
    res = train(config_from_dict(cfg), verbose=False)
    assert res.history[0]["train_loss"] > 0 and "val_nme" in res.history[0]
    bad = tiny_config(tmp_path, "bad", epochs=1, **{"model.head": "heatmap", "loss.name": "gaussian_mse"})
    with pytest.raises(ConfigError, match="needs model.heatmap.target 'gaussian'"):
        train(config_from_dict(bad), verbose=False)


def test_gaussian_ce_loss_is_minimised_by_the_target():
    from types import SimpleNamespace

    from facealign.codecs.config import HeatmapConfig
    from facealign.train.objective import HeatmapObjective

    codec = HeatmapCodec(64, HeatmapConfig(stride=4, target="gaussian", decoder="argmax"))
    cfg = SimpleNamespace(loss=SimpleNamespace(name="gaussian_ce"), model=SimpleNamespace(heatmap=codec.settings))
    obj = HeatmapObjective(cfg, codec, None)
    pts = torch.tensor([[[21.0, 30.0], [40.0, 8.0]]])
    target = gaussian_encode(pts, 4, (16, 16))
    ideal = torch.stack([torch.zeros_like(target), torch.log((target / target.sum((-1, -2), keepdim=True)).clamp_min(1e-30))], 1)
    flat = torch.zeros_like(ideal)
    batch = {"landmarks": pts}
    assert obj(ideal, batch) < obj(flat, batch)
    dec, _ = codec.decode(ideal)
    torch.testing.assert_close(dec, torch.round(pts / 4) * 4)
