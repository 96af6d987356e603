"""Running a model on faces: crops from a data set, and (later) detection on raw images."""

from facealign.predict.on_dataset import predict_dataset

__all__ = ["predict_dataset"]
