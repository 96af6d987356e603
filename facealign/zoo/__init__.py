"""Named models: bundled weights and downloadable ones, each pinned by sha256.

``list_models()`` lists the registry (``models.json`` beside this file); ``load_model`` takes a
name, a path, or an http(s) URL (optionally ``URL#sha256=HEX``). Downloads land in the cache
(``$FACEALIGN_CACHE`` or ``~/.cache/facealign``) only after their sha256 matched.
"""

from __future__ import annotations

from typing import Any

from facealign.zoo.cache import cache_dir, sha256_file
from facealign.zoo.download import MAX_DOWNLOAD_BYTES, download
from facealign.zoo.registry import (
    REGISTRY,
    WEIGHTS,
    ZooEntry,
    aliases,
    check_user_name,
    has_int8,
    list_models,
    register_user_model,
    resolve,
    resolve_onnx,
    user_registry,
)


def load_model(name_or_path: Any):
    """Load a model by registry name, file path or URL (safetensors: no code runs on load)."""
    from facealign.models.landmark_model import LandmarkModel
    from facealign.models.landmark_model import load_model_file as load_file

    if isinstance(name_or_path, LandmarkModel):
        return name_or_path
    return load_file(resolve(name_or_path))


__all__ = ["ZooEntry", "list_models", "load_model", "resolve", "resolve_onnx", "download", "cache_dir", "sha256_file",
           "aliases", "check_user_name", "has_int8", "register_user_model", "user_registry", "REGISTRY", "WEIGHTS",
           "MAX_DOWNLOAD_BYTES"]
