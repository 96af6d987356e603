"""Models: timm backbones, heads, the landmark model, its single-file format and the model zoo."""

from facealign.models.backbones import create_backbone
from facealign.models.landmark_model import (HeatmapConfig, LandmarkModel, ModelConfig, create_model, load_model_file,
                                             read_model_file, save_model)
from facealign.zoo import list_models, load_model

__all__ = ["LandmarkModel", "ModelConfig", "HeatmapConfig", "create_model", "create_backbone", "save_model",
           "load_model", "load_model_file", "read_model_file", "list_models"]
