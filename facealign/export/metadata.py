"""facealign's metadata in ONNX files: one writer, so every file carries the same keys.

Keys (``metadata_props``): ``format`` ("facealign"), ``facealign_config`` (the model config as
JSON), ``decode`` (``in-graph`` or ``none``), ``source_sha256`` (digest of the weights file), and
for quantized files ``quantization`` and ``calibration_faces``.
"""

from __future__ import annotations

from typing import Any


def model_metadata(config: dict[str, Any], decode: str, source_sha256: str | None) -> dict[str, str]:
    """The metadata of a freshly exported model."""
    import json

    return {"format": "facealign", "facealign_config": json.dumps(config), "decode": decode,
            "source_sha256": source_sha256 or ""}


def read_metadata(model: Any) -> dict[str, str]:
    """``metadata_props`` of an ``onnx.ModelProto`` as a dict."""
    return {p.key: p.value for p in model.metadata_props}


def set_metadata(model: Any, meta: dict[str, str]) -> None:
    """Replace the ``metadata_props`` of an ``onnx.ModelProto`` with ``meta``."""
    del model.metadata_props[:]
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
