"""Models: timm backbones, heads, the landmark model and its single-file format."""

from facealign.models.backbones import create_backbone
from facealign.models.landmark_model import (LandmarkModel, ModelConfig, create_model, load_model, read_model_file,
                                             save_model)

__all__ = ["LandmarkModel", "ModelConfig", "create_model", "create_backbone", "save_model", "load_model",
           "read_model_file"]
