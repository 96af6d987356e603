"""Running models (every inference runner lives here): on annotated data sets (evaluation), on raw
images and videos (FaceAligner), in PyTorch or ONNX Runtime (runners)."""

from facealign.predict.aligner import FaceAligner
from facealign.predict.on_dataset import predict_dataset, predict_dataset_numpy
from facealign.predict.options import AlignerOptions
from facealign.predict.result import FaceResult
from facealign.predict.runners import OnnxRunner, TorchRunner, create_runner, onnx_runner

__all__ = ["AlignerOptions", "FaceAligner", "FaceResult", "predict_dataset", "predict_dataset_numpy", "OnnxRunner", "TorchRunner",
           "create_runner", "onnx_runner"]
