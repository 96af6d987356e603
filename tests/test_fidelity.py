"""The two methods as their authors define them (../shared/docs/methods.md), one test per item of
the fidelity audit in issue 17: each checks facealign against numbers or lists stated there,
computed by hand here, not against facealign itself."""

import math

import numpy as np
import pytest
import torch
from conftest import tiny_config

from facealign.metrics import normalizing_distance
from facealign.schemes import COFW_29, IBUG_68, LAPA_106, WFLW_98

# methods.md "pitfalls" 2: the literal horizontal-flip permutations (flipped index i takes the point at perm[i])
PERM_300W = [*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38,
             37, 36, 41, 40, 54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65]
PERM_WFLW = [*range(32, -1, -1), 46, 45, 44, 43, 42, 50, 49, 48, 47, 37, 36, 35, 34, 33, 41, 40, 39, 38, 51, 52, 53, 54,
             59, 58, 57, 56, 55, 72, 71, 70, 69, 68, 75, 74, 73, 64, 63, 62, 61, 60, 67, 66, 65, 82, 81, 80, 79, 78, 77,
             76, 87, 86, 85, 84, 83, 92, 91, 90, 89, 88, 95, 94, 93, 97, 96]
PERM_LAPA = [*range(32, -1, -1), 46, 45, 44, 43, 42, 50, 49, 48, 47, 37, 36, 35, 34, 33, 41, 40, 39, 38, 51, 52, 53, 54,
             65, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 79, 78, 77, 76, 75, 82, 81, 80, 83, 70, 69, 68, 67, 66, 73, 72,
             71, 74, 90, 89, 88, 87, 86, 85, 84, 95, 94, 93, 92, 91, 100, 99, 98, 97, 96, 103, 102, 101, 105, 104]
PAIRS_COFW = [(0, 1), (2, 3), (4, 6), (5, 7), (8, 9), (10, 11), (12, 14), (13, 15), (16, 17), (18, 19), (22, 23)]


def cofw_perm() -> list[int]:
    perm = list(range(29))
    for a, b in PAIRS_COFW:
        perm[a], perm[b] = b, a
    return perm


@pytest.mark.parametrize("scheme,perm", [(IBUG_68, PERM_300W), (WFLW_98, PERM_WFLW), (LAPA_106, PERM_LAPA),
                                         (COFW_29, None)], ids=["300w", "wflw", "lapa", "cofw"])
def test_flip_permutations_are_the_released_lists(scheme, perm):
    want = cofw_perm() if perm is None else perm
    assert len(want) == scheme.num_points
    assert list(scheme.flip_perm) == want


def test_lapa_and_cofw_normalisers_use_the_stated_indices():
    """LaPa: outer eye corners 66/79, pupils 104/105; COFW: 8/9 (methods.md 3.1)."""
    rng = np.random.default_rng(0)
    lapa = rng.uniform(0, 100, (1, 106, 2))
    lapa[0, 66], lapa[0, 79] = [10, 20], [40, 60]  # 50 apart
    lapa[0, 104], lapa[0, 105] = [20, 30], [32, 39]  # 15 apart
    assert normalizing_distance(lapa, LAPA_106, "inter_ocular")[0] == pytest.approx(50.0)
    assert normalizing_distance(lapa, LAPA_106, "inter_pupil")[0] == pytest.approx(15.0)
    cofw = rng.uniform(0, 100, (1, 29, 2))
    cofw[0, 8], cofw[0, 9] = [0, 0], [24, 7]  # 25 apart
    assert normalizing_distance(cofw, COFW_29, "inter_ocular")[0] == pytest.approx(25.0)


def test_r2_loss_is_the_per_pixel_two_class_cross_entropy():
    """R2 by hand: for every pixel, -log softmax over (background, foreground) of the true class,
    averaged over the map, then over the points inside the map."""
    from facealign.losses import rr_pixel_ce

    g = torch.Generator().manual_seed(0)
    out = torch.randn(2, 2, 3, 4, 5, generator=g)
    one_hot = torch.zeros(2, 3, 4, 5)
    one_hot[0, 0, 1, 2] = one_hot[0, 1, 3, 4] = one_hot[0, 2, 0, 0] = one_hot[1, 0, 2, 2] = one_hot[1, 1, 0, 1] = 1
    inside = torch.tensor([[True, True, True], [True, True, False]])
    total, n = 0.0, 0
    for b in range(2):
        for k in range(3):
            if not inside[b, k]:
                continue
            per_pixel = []
            for y in range(4):
                for x in range(5):
                    bg, fg = float(out[b, 0, k, y, x]), float(out[b, 1, k, y, x])
                    z = math.log(math.exp(bg) + math.exp(fg))
                    per_pixel.append(z - (fg if one_hot[b, k, y, x] else bg))
            total += sum(per_pixel) / len(per_pixel)
            n += 1
    assert float(rr_pixel_ce(out, one_hot, inside)) == pytest.approx(total / n, rel=1e-5)


@pytest.mark.parametrize("reset", [True, False])
def test_keras_decay_learning_rates(tmp_path, reset):
    """ACR's Keras schedule: lr_t = lr / (1 + decay * t), t the optimiser's iteration count, which
    starts again at 0 when the optimiser is re-created every epoch (the released loop)."""
    from facealign.train import train
    from facealign.train.config import config_from_dict

    seen: list[float] = []
    orig_step = torch.optim.Adam.step

    def step(self, *a, **k):
        seen.append(self.param_groups[0]["lr"])
        return orig_step(self, *a, **k)

    cfg = config_from_dict(tiny_config(tmp_path, epochs=2, max_steps_per_epoch=3, batch_size=4, **{
        "loss.name": "l2", "optim.schedule": "keras_decay", "optim.keras_decay": 0.1, "optim.lr": 0.01,
        "optim.reset_each_epoch": reset}))
    torch.optim.Adam.step = step
    try:
        train(cfg, verbose=False)
    finally:
        torch.optim.Adam.step = orig_step
    t = [0, 1, 2, 0, 1, 2] if reset else [0, 1, 2, 3, 4, 5]
    assert seen == pytest.approx([0.01 / (1 + 0.1 * i) for i in t], rel=1e-9)


@pytest.mark.parametrize("backbone,dropout,he", [("mobilenetv2_100", 0.1, False), ("efficientnet_b0", 0.5, True),
                                                 ("efficientnet_b3", 0.5, True)])
def test_acr_heads_dropout_and_he_uniform_init(backbone, dropout, he):
    """The paper configs' heads (methods.md 1.6): MobileNetV2 Dropout 0.1; EfficientNets Dropout 0.5
    and Keras' He-uniform (U(-l, l), l = sqrt(6 / fan_in)) with zero bias."""
    from facealign.train import load_train_config

    name = {"mobilenetv2_100": "mnv2", "efficientnet_b0": "effb0", "efficientnet_b3": "effb3"}[backbone]
    cfg = load_train_config(f"configs/300w_{name}_224_acr_paper.yaml")
    assert (cfg.model.backbone, cfg.model.dropout, cfg.model.he_uniform) == (backbone, dropout, he)
    from facealign.models import LandmarkModel

    torch.manual_seed(0)
    model = LandmarkModel(cfg.model)
    assert model.head.drop.p == dropout
    w = model.head.fc.weight.detach().numpy()
    if he:
        limit = math.sqrt(6 / w.shape[1])
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
        assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)  # the std of U(-l, l)
        assert not model.head.fc.bias.detach().numpy().any()
    # dropout is live in training (two passes differ) and off in evaluation
    feats = [torch.ones(4, w.shape[1], 1, 1)]
    model.head.train()
    assert not torch.equal(model.head(feats), model.head(feats))
    model.head.eval()
    torch.testing.assert_close(model.head(feats), model.head(feats))


@pytest.mark.parametrize("config,momentum", [("300w_mnv2_224_acr_paper", 0.001), ("cofw_effb0_224_acr_paper", 0.01),
                                             ("300w_effb3_224_acr_paper", 0.01)])
def test_keras_batchnorm_momentum_and_eps_in_the_paper_configs(config, momentum):
    """Keras BatchNorm (MobileNetV2 momentum 0.999, EfficientNet 0.99, eps 1e-3): every BatchNorm
    layer's running mean moves by (1 - Keras momentum) of the batch mean per training step."""
    from facealign.models import LandmarkModel
    from facealign.train import load_train_config

    cfg = load_train_config(f"configs/{config}.yaml")
    cfg.model.input_size = 64
    model = LandmarkModel(cfg.model)
    bns = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.momentum == momentum and m.eps == 1e-3 for m in bns)
    first = bns[0]
    seen = {}
    first.register_forward_hook(lambda m, inp, out: seen.setdefault("x", inp[0].detach()))
    before = first.running_mean.clone()
    model.train()(torch.rand(2, 3, 64, 64))
    batch_mean = seen["x"].mean(dim=(0, 2, 3))
    torch.testing.assert_close(first.running_mean, (1 - momentum) * before + momentum * batch_mean)
