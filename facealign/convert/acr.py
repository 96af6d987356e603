"""The ACR authors' released Keras ``.h5`` files (aliprf/ACR-Loss, MobileNetV2 heads) as facealign
regression models, read with h5py: no TensorFlow, no code from the file.

Keras' MobileNetV2 differs from timm's default in two ways that change every output: TensorFlow's
"same" padding and BatchNorm eps 1e-3; both are model options here (``backbone_options``). Their
toolkit decodes x = S/2 - S * out (``regression_centre: half``). Layers are mapped by the names read
from the file and every array is checked by shape; anything unmapped is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from facealign.errors import FaceAlignError
from facealign.models.config import ModelConfig
from facealign.models.landmark_model import LandmarkModel

SCHEMES_BY_POINTS = {68: "300w", 29: "cofw"}
KERAS_OPTIONS = {"pad_type": "same", "bn_eps": 0.001}
# Keras MobileNetV2 block i (1-16) -> timm stage and index (stage sizes 2, 3, 4, 3, 3, 1 after block 0)
_STAGES = (1, 2, 3, 4, 3, 3, 1)
_BN = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}


def _block(i: int) -> str:
    for s, n in enumerate(_STAGES):
        if i < n:
            return f"blocks.{s}.{i}"
        i -= n
    raise KeyError(i)


def _layer_key(layer: str) -> str:
    """Keras MobileNetV2 layer name -> facealign module path (KeyError when it has none)."""
    fixed = {"Conv1": "backbone.net.conv_stem", "bn_Conv1": "backbone.net.bn1", "Conv_1": "backbone.net.conv_head",
             "Conv_1_bn": "backbone.net.bn2", "expanded_conv_depthwise": "backbone.net.blocks.0.0.conv_dw",
             "expanded_conv_depthwise_BN": "backbone.net.blocks.0.0.bn1",
             "expanded_conv_project": "backbone.net.blocks.0.0.conv_pw",
             "expanded_conv_project_BN": "backbone.net.blocks.0.0.bn2"}
    if layer in fixed:
        return fixed[layer]
    m = re.fullmatch(r"block_(\d+)_(expand|depthwise|project)(_BN)?", layer)
    if m:
        part = {"expand": ("conv_pw", "bn1"), "depthwise": ("conv_dw", "bn2"), "project": ("conv_pwl", "bn3")}[m.group(2)]
        return f"backbone.net.{_block(int(m.group(1)))}.{part[1] if m.group(3) else part[0]}"
    raise KeyError(layer)


def acr_key(layer: str, weight: str, head_layer: str) -> tuple[str, tuple[int, ...] | None]:
    """(facealign key, transpose to torch layout or None) of one Keras array."""
    name = weight.rsplit("/", 1)[-1].split(":")[0]
    if layer == head_layer:
        return f"head.fc.{'weight' if name == 'kernel' else 'bias'}", ((1, 0) if name == "kernel" else None)
    base = _layer_key(layer)
    if name in _BN:
        return f"{base}.{_BN[name]}", None
    if name == "kernel":
        return f"{base}.weight", (3, 2, 0, 1)
    if name == "depthwise_kernel":
        return f"{base}.weight", (2, 3, 0, 1)
    raise KeyError(weight)


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def read_keras_arrays(path: Path) -> list[tuple[str, str, np.ndarray]]:
    """(layer, weight name, array) of every weight of a Keras ``model.save`` .h5, in file order
    (string attributes as bytes, as TF 2.6 wrote them, or as str)."""
    import h5py

    if not path.is_file():
        raise FaceAlignError(f"{path}: file not found")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise FaceAlignError(f"{path}: not an HDF5 file (expected the ACR authors' Keras .h5)") from None
    with f:
        g = f.get("model_weights", f)
        if "layer_names" not in g.attrs:
            raise FaceAlignError(f"{path}: no Keras layer list (attribute layer_names); not a Keras model.save file")
        out = []
        for layer in (_text(x) for x in g.attrs["layer_names"]):
            lg = g[layer]
            for w in (_text(x) for x in lg.attrs.get("weight_names", [])):
                ds = lg.get(w)
                if not isinstance(ds, h5py.Dataset):
                    raise FaceAlignError(f"{path}: layer {layer!r} lists weight {w!r} but the file has no such array")
                out.append((layer, w, np.asarray(ds, dtype=np.float32)))
    return out


def convert_acr(path: str | Path, arch: str | None = None, dataset: str | None = None) -> LandmarkModel:
    """An ACR MobileNetV2 ``.h5`` as a facealign regression model (224 px, centre S/2, Keras padding
    and BatchNorm eps).

    Raises:
        FaceAlignError: not such a file, an unmapped layer, or a shape that does not fit (named).
    """
    p = Path(path)
    arrays = read_keras_arrays(p)
    layers = [layer for layer, _, _ in arrays]
    if arch not in (None, "mobilenetv2"):
        raise FaceAlignError(f"ACR {arch} files are not supported yet (MobileNetV2 only)")
    if "Conv1" not in layers or not any(layer.startswith("block_") for layer in layers):
        raise FaceAlignError(f"{p}: not a Keras MobileNetV2 (no Conv1/block_* layers); EfficientNet files are not supported yet")
    head_layer = layers[-1]
    out_dim = arrays[-1][2].shape[-1] if arrays[-1][1].endswith("bias:0") else arrays[-1][2].shape[0]
    points = int(out_dim) // 2
    scheme = SCHEMES_BY_POINTS.get(points)
    if scheme is None or (dataset is not None and dataset != scheme):
        raise FaceAlignError(f"{p}: the head predicts {points} points; ACR models have 68 (300w) or 29 (cofw)"
                             + (f", and --dataset {dataset} needs {[k for k, v in SCHEMES_BY_POINTS.items() if v == dataset]}"
                                if dataset else ""))
    cfg = ModelConfig(scheme=scheme, backbone="mobilenetv2_100", head="regression", input_size=224, box="landmarks",
                      dropout=0.1, backbone_options=dict(KERAS_OPTIONS), regression_centre="half")
    model = LandmarkModel(cfg)
    mine = model.state_dict()
    state, problems = {}, []
    for layer, w, a in arrays:
        try:
            key, perm = acr_key(layer, w, head_layer)
        except KeyError:
            problems.append(f"unmapped {layer}/{w}")
            continue
        t = torch.from_numpy(a.transpose(perm) if perm else a).contiguous()
        if key not in mine or mine[key].shape != t.shape:
            problems.append(f"{layer}/{w} -> {key} {tuple(t.shape)} does not fit")
            continue
        state[key] = t
    missing = [k for k in mine if k not in state and not k.endswith("num_batches_tracked")]
    if problems or missing:
        raise FaceAlignError(f"{p}: does not fit facealign's MobileNetV2 ({len(problems)} arrays, e.g. {problems[:2]}; "
                             f"{len(missing)} weights missing, e.g. {missing[:2]})")
    model.load_state_dict(state, strict=False)
    from facealign.zoo import sha256_file

    model.info = {"source": "ACR (Fard & Mahoor, ICPR 2022) released checkpoint", "source_file": p.name,
                  "source_sha256": sha256_file(p), "licence": "CC BY-NC-ND 4.0: non-commercial, do not share converted files"}
    return model.eval()
