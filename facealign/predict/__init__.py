"""Running models: on annotated data sets (evaluation) and on raw images and videos (FaceAligner)."""

from facealign.predict.aligner import FaceAligner
from facealign.predict.on_dataset import predict_dataset
from facealign.predict.result import FaceResult

__all__ = ["FaceAligner", "FaceResult", "predict_dataset"]
