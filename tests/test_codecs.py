"""Codecs both ways: encode draws what the losses train on; each numpy decoder matches its torch twin."""

import numpy as np
import pytest
import torch

from facealign.codecs.config import HeatmapConfig
from facealign.codecs.flip import merge_flip_pass
from facealign.codecs.heatmap import HeatmapCodec, decode_argmax, decode_soft_argmax, decode_topk, gaussian_encode, rr_encode
from facealign.codecs.numpy_decode import (
    decode_argmax_numpy,
    decode_heatmap_numpy,
    decode_regression_numpy,
    decode_soft_argmax_numpy,
    decode_topk_numpy,
    top_k_indices,
)
from facealign.codecs.regression import RegressionCodec
from facealign.schemes import IBUG_68


def logits(seed=0, shape=(3, 5, 16, 16)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 3


def test_regression_decoders_agree():
    out = torch.randn(4, 136, generator=torch.Generator().manual_seed(1)) * 0.3
    pt, st = RegressionCodec(128).decode(out)
    pn, sn = decode_regression_numpy(out.numpy(), 128)
    np.testing.assert_allclose(pn, pt.double().numpy(), atol=1e-4)
    np.testing.assert_array_equal(sn, st.numpy())


@pytest.mark.parametrize("k", [1, 9, 25])
def test_topk_decoders_agree(k):
    x = logits(k)
    pt, st = decode_topk(x, 4, k)
    pn, sn = decode_topk_numpy(x.numpy(), 4, k)
    np.testing.assert_allclose(pn, pt.double().numpy(), atol=1e-4)
    np.testing.assert_allclose(sn, st.numpy(), atol=1e-5)


@pytest.mark.parametrize("n,k", [(1024, 9), (1024, 1), (100, 9), (13, 9), (8, 9), (72, 9), (4096, 25)])
def test_top_k_indices_finds_the_k_largest_of_every_row(n, k):
    """The grouped selection returns the same values as a full sort, for row lengths that are not
    whole groups, rows shorter than k groups, and maps whose top values crowd into one group."""
    rng = np.random.default_rng(n + k)
    rows = rng.normal(size=(3, 5, n)).astype(np.float32)
    rows[0, 0, : min(n, 16)] += 100  # the top k all in the first groups
    rows[1, 1] = np.round(rows[1, 1])  # many ties
    k = min(k, n)
    idx = top_k_indices(rows, k)
    assert idx.shape == (3, 5, k)
    assert all(len(set(r)) == k for r in idx.reshape(-1, k))  # k distinct cells
    got = np.sort(np.take_along_axis(rows, idx, -1), -1)
    want = np.sort(rows, -1)[..., n - k:]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_a_topk_that_cannot_work_is_refused(k):
    from facealign.errors import ConfigError

    with pytest.raises(ConfigError, match="topk must be a whole number >= 1"):
        HeatmapConfig(topk=k).check(128)


def test_argmax_decoders_agree():
    x = logits(2)
    pt, st = decode_argmax(x, 8)
    pn, sn = decode_argmax_numpy(x.numpy(), 8)
    np.testing.assert_array_equal(pn, pt.double().numpy())
    np.testing.assert_allclose(sn, st.numpy(), atol=1e-6)


def test_soft_argmax_decoders_agree():
    x = logits(3)
    pt, st = decode_soft_argmax(x, 4)
    pn, sn = decode_soft_argmax_numpy(x.numpy(), 4)
    np.testing.assert_allclose(pn, pt.double().numpy(), atol=1e-4)
    np.testing.assert_allclose(sn, st.numpy(), atol=1e-5)


@pytest.mark.parametrize("decoder,two_class", [("topk", False), ("topk", True), ("argmax", False), ("soft_argmax", True)])
def test_heatmap_codec_decoders_agree(decoder, two_class):
    hm = HeatmapConfig(stride=4, decoder=decoder, two_class=two_class)
    out = logits(4, (2, 2, 5, 16, 16))
    pt, st = HeatmapCodec(64, hm).decode(out)
    pn, sn = decode_heatmap_numpy(out.numpy(), hm)
    np.testing.assert_allclose(pn, pt.double().numpy(), atol=1e-4)
    np.testing.assert_allclose(sn, st.numpy(), atol=1e-5)


def test_rr_encode_draws_one_cell_among_the_four_neighbours():
    codec = HeatmapCodec(64, HeatmapConfig(stride=4))
    pts = torch.tensor([[[21.0, 30.0], [40.4, 8.9], [-9.0, 5.0]]])
    t = codec.encode(pts, torch.Generator().manual_seed(0))
    assert t.cells.shape == (1, 3) and t.maps.shape == (1, 3, 16, 16)
    assert t.inside.tolist() == [[True, True, False]]
    # the map is the one-hot of the cell, and the cell equals rr_encode's with the same generator
    assert torch.equal(t.maps.reshape(1, 3, -1).argmax(-1), t.cells) and torch.equal(t.maps.sum((-1, -2)), torch.ones(1, 3))
    cells, _ = rr_encode(pts, 4, (16, 16), torch.Generator().manual_seed(0))
    assert torch.equal(cells, t.cells)
    row, col = t.cells[0, 1] // 16, t.cells[0, 1] % 16
    assert row in (2, 3) and col in (10, 11)


def test_gaussian_encode_centres_on_the_rounded_cell():
    codec = HeatmapCodec(64, HeatmapConfig(stride=4, target="gaussian", decoder="argmax"))
    pts = torch.tensor([[[21.0, 30.0], [40.4, 8.9]]])
    t = codec.encode(pts)
    torch.testing.assert_close(t.maps, gaussian_encode(pts, 4, (16, 16)))
    assert t.cells.tolist() == [[8 * 16 + 5, 2 * 16 + 10]]


def test_flip_merge_is_the_same_for_numpy_and_torch():
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 63, (4, 68, 2))
    sc = rng.uniform(0, 1, (4, 68))
    pn, sn = merge_flip_pass(pts, sc, IBUG_68, 64)
    pt, st = merge_flip_pass(torch.tensor(pts), torch.tensor(sc), IBUG_68, 64)
    np.testing.assert_array_equal(pn, pt.numpy())
    np.testing.assert_array_equal(sn, st.numpy())
    # a pass and its exact mirror image agree with the plain pass
    mirror = IBUG_68.flip_points(pts[:2], 64)
    both = np.concatenate([pts[:2], mirror])
    merged, _ = merge_flip_pass(both, np.ones((4, 68)), IBUG_68, 64)
    np.testing.assert_allclose(merged, pts[:2], atol=1e-12)


def test_flip_merge_moves_the_mirrored_pass_by_flip_shift():
    """A model that learned labels which are not mirror-symmetric places them by their convention
    on a mirrored crop too: mapped back, its point j sits flip_shift[j] landmark-box sizes left of
    the plain pass. The merge moves it back, so both passes agree (numpy and torch alike)."""
    from facealign.schemes import landmark_box_size

    rng = np.random.default_rng(1)
    plain = rng.uniform(10, 54, (3, 68, 2))
    shift = rng.uniform(0.01, 0.05, 68)
    back = plain.copy()
    back[..., 0] -= shift[None] * landmark_box_size(plain)[:, None]
    both = np.concatenate([plain, IBUG_68.flip_points(back, 64)])  # the mirrored pass as the model gives it
    sc = np.ones((6, 68))
    merged, _ = merge_flip_pass(both, sc, IBUG_68, 64, tuple(shift))
    np.testing.assert_allclose(merged, plain, atol=1e-9)
    unshifted, _ = merge_flip_pass(both, sc, IBUG_68, 64)
    np.testing.assert_allclose(plain[..., 0] - unshifted[..., 0], shift[None] * landmark_box_size(plain)[:, None] / 2, atol=1e-9)
    merged_t, _ = merge_flip_pass(torch.tensor(both), torch.tensor(sc), IBUG_68, 64, tuple(shift))
    np.testing.assert_allclose(merged_t.numpy(), merged, atol=1e-9)


def test_both_heatmap_decoders_refuse_an_unknown_decoder_instead_of_falling_back():
    """The torch and numpy twins once fell back to different decoders (soft-argmax vs top-k)."""
    hm = HeatmapConfig(stride=4)
    hm.decoder = "sideways"  # past the config's own check, as a hand-edited object would be
    out = logits(4, (1, 2, 5, 16, 16))
    with pytest.raises(ValueError, match="unknown (heatmap )?decoder 'sideways'"):
        HeatmapCodec(64, hm).decode(out)
    with pytest.raises(ValueError, match="unknown heatmap decoder 'sideways'"):
        decode_heatmap_numpy(out.numpy(), hm)


@pytest.mark.parametrize("codec", [RegressionCodec(64), RegressionCodec(64, "half"),
                                   HeatmapCodec(64, HeatmapConfig(stride=4)),
                                   HeatmapCodec(64, HeatmapConfig(stride=4, decoder="soft_argmax", two_class=True))],
                         ids=["regression", "regression-half", "heatmap-topk", "heatmap-soft-two-class"])
def test_every_codec_keeps_the_codec_contract(codec):
    """encode(points, generator) -> target; decode and decode_numpy give the same points and scores."""
    from facealign.codecs import Codec

    assert isinstance(codec, Codec)
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(2, 5, 2, generator=g) * 60
    target = codec.encode(pts, torch.Generator().manual_seed(1))
    assert target is not None
    out = logits(7, (2, 10)) if isinstance(codec, RegressionCodec) else logits(7, (2, 2, 5, 16, 16))
    pt, st = codec.decode(out)
    pn, sn = codec.decode_numpy(out.numpy())
    assert pt.shape == (2, 5, 2) and st.shape == (2, 5) and pn.shape == (2, 5, 2) and sn.shape == (2, 5)
    np.testing.assert_allclose(pn, pt.double().numpy(), atol=1e-4)
    np.testing.assert_allclose(sn, st.numpy(), atol=1e-5)
