"""Training: configs, objectives and the loop."""

from facealign.train.config import DataConfig, LossConfig, OptimConfig, TrainConfig, load_train_config
from facealign.train.loop import TrainResult, train

__all__ = ["TrainConfig", "DataConfig", "LossConfig", "OptimConfig", "load_train_config", "train", "TrainResult"]
