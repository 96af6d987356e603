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
        "threads": 1,
    })
    res = train(cfg, verbose=False)
    assert len(res.history) == 2 and res.history[0]["variance"] == 80.0
    assert (tmp_path / "r" / "best.safetensors").is_file()
