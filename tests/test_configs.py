import glob

import pytest
from conftest import OFFICIAL, REPO

from facealign.train import load_train_config, train

CONFIGS = sorted(glob.glob(str(REPO / "configs" / "*.yaml")))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_config_parses(path):
    cfg = load_train_config(path)
    assert cfg.data.train and cfg.epochs >= 1


def test_paper_config_runs_on_real_cofw_samples(tmp_path):
    """The COFW EfficientNet-B3 paper recipe (Keras decay, optimiser reset per epoch, He-uniform
    head, ACR schedule) end to end on the two real COFW faces, shrunk to seconds."""
    mat = str(OFFICIAL / "cofw" / "COFW_test.mat")
    cfg = load_train_config(REPO / "configs" / "cofw_effb3_224_acr_paper.yaml", {
        "data.train": f"cofw:{mat}", "data.train_split": "test", "data.val": f"cofw:{mat}", "data.val_split": "test",
        "model.input_size": 64, "batch_size": 2, "epochs": 2, "workers": 0, "out_dir": str(tmp_path / "r"),
        "threads": 1, "data.repeat": 1,  # the recipe's 20 augmented copies an epoch: 20x the steps
    })
    res = train(cfg, verbose=False)
    assert len(res.history) == 2 and res.history[0]["variance"] == 80.0
    assert (tmp_path / "r" / "best.safetensors").is_file()


H3R_RECIPES = sorted(glob.glob(str(REPO / "configs" / "*_rr_paper*.yaml")))
# The benchmark samples of each format, in the official layout (never trained on beyond one step).
FIXTURE_DATA = {"wflw": (f"wflw:{OFFICIAL / 'wflw'}", "test"), "300w": (f"300w:{OFFICIAL / '300w'}", "all"),
                "lapa": (f"lapa:{OFFICIAL / 'lapa'}", "test")}


def test_every_h3r_table_row_has_a_recipe():
    names = {p.rsplit("/", 1)[-1] for p in H3R_RECIPES}
    for ds in FIXTURE_DATA:
        for bb_size in ("hrnetw18_256", "mnv2_256", "mnv2_160", "mnv2_128"):
            assert f"{ds}_{bb_size}_rr_paper.yaml" in names
    assert "wflw_hrnetw18_256_rr_paper_p1.yaml" in names


@pytest.mark.parametrize("path", H3R_RECIPES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_h3r_recipe_trains_one_step_on_real_samples(path, tmp_path):
    """Each H3R recipe as written (backbone, input size, stride, R1 loss, box type, augmentation,
    schedule) runs one optimiser step on the real samples of its format and validates on them."""
    cfg = load_train_config(path)
    assert cfg.model.head == "heatmap" and cfg.model.heatmap.target == "rr" and cfg.model.heatmap.topk == 9
    assert cfg.model.heatmap.stride == 4 and cfg.loss.name == "rr_ce" and cfg.batch_size == 16
    fmt = cfg.data.train.split(":", 1)[0]
    spec, split = FIXTURE_DATA[fmt]
    cfg = load_train_config(path, {
        "data.train": spec, "data.train_split": split, "data.val": spec, "data.val_split": split,
        "batch_size": 2, "epochs": 1, "max_steps_per_epoch": 1, "workers": 0, "threads": 1,
        "trainer.accelerator": "cpu", "out_dir": str(tmp_path / "r"),
    })
    res = train(cfg, verbose=False)
    row = res.history[0]
    assert row["train_loss"] > 0 and row["val_nme"] > 0
    assert (tmp_path / "r" / "best.safetensors").is_file()


PAPER = sorted(glob.glob(str(REPO / "configs" / "*_paper*.yaml")))


@pytest.mark.parametrize("path", PAPER, ids=lambda p: p.rsplit("/", 1)[-1])
def test_paper_configs_never_choose_a_checkpoint_on_the_test_split(path):
    cfg = load_train_config(path)
    fmt = cfg.data.train.split(":", 1)[0]
    test_splits = {"wflw": {"test"}, "300w": {"common", "challenging", "full", "private"}, "cofw": {"test"}, "lapa": {"test"}}
    assert cfg.data.val is None or cfg.data.val_split not in test_splits[fmt]


def test_acr_paper_configs_repeat_each_face_as_the_authors_epoch_does():
    for path in glob.glob(str(REPO / "configs" / "*_acr_paper.yaml")):
        cfg = load_train_config(path)
        cofw = cfg.model.scheme == "cofw"
        assert (cfg.data.repeat, cfg.loss.pca_draws) == ((20, 19) if cofw else (10, 9)), path
