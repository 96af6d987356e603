"""Real training runs (minutes): pytest -m slow."""

import pytest
from conftest import YTF

from facealign.metrics.evaluation import evaluate_landmarks, mean_shape_predictions
from facealign.models.config import ModelConfig
from facealign.predict import predict_dataset
from facealign.train.config import config_from_dict
from facealign.zoo import load_model


@pytest.mark.slow
def test_mnv2_on_ytf68_beats_mean_shape(tmp_path, ytf_train, ytf_val):
    from facealign.train import train

    cfg = config_from_dict({
        "data": {"train": f"csv:{YTF / 'train' / 'landmarks.csv'}", "val": f"csv:{YTF / 'val' / 'landmarks.csv'}"},
        "model": {"backbone": "mobilenetv2_100", "input_size": 96},
        "loss": {"name": "acr"}, "optim": {"lr": 0.002, "warmup_epochs": 1},
        "epochs": 5, "batch_size": 32, "workers": 1, "threads": 2, "out_dir": str(tmp_path / "r"), "log_every": 0,
    })
    train(cfg, verbose=False)
    model = load_model(tmp_path / "r" / "best.safetensors")
    pred, _ = predict_dataset(model, ytf_val)
    nme = evaluate_landmarks(ytf_val, pred).overall["nme"]
    base = evaluate_landmarks(ytf_val, mean_shape_predictions(ytf_train, ytf_val, ModelConfig())).overall["nme"]
    assert nme < 0.6 * base, (nme, base)
