"""Dataset-scale landmarks on Ray Data (``pip install 'facealign[ray]'``)."""

from facealign.distributed.ray_predict import RayRun, predict_on_ray, shard_paths

__all__ = ["RayRun", "predict_on_ray", "shard_paths"]
