"""The ACR authors' released Keras ``.h5`` files (aliprf/ACR-Loss: MobileNetV2, EfficientNet-B0 and
-B3 heads) as facealign regression models, read with h5py: no TensorFlow, no code from the file.

Keras' MobileNetV2 differs from timm's default in two ways that change every output: TensorFlow's
"same" padding and BatchNorm eps 1e-3; both are model options here (``backbone_options``). Their
EfficientNets (qubvel/efficientnet) are timm's ``tf_efficientnet_b0`` / ``_b3``, which have both
built in. Their toolkit decodes x = S/2 - S * out (``regression_centre: half``) in a crop of the
landmark box +-10 px stretched to a square (``crop: acr``). Layers are mapped
by the names read from the file and every array is checked by shape; anything unmapped is an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from facealign.convert.released import released_by_digest
from facealign.errors import FaceAlignError
from facealign.models.config import ModelConfig
from facealign.models.landmark_model import LandmarkModel
from facealign.utils.digests import file_digests

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


def _efficientnet_layer_key(layer: str) -> str:
    """Keras (qubvel) EfficientNet layer name -> facealign module path (KeyError when it has none).

    ``block<stage><letter>_<part>``: stage 1 is timm's depthwise-separable stage 0 (dw, se,
    project); the later stages are inverted residuals (expand, dw, se, project).
    """
    fixed = {"stem_conv": "conv_stem", "stem_bn": "bn1", "top_conv": "conv_head", "top_bn": "bn2"}
    if layer in fixed:
        return f"backbone.net.{fixed[layer]}"
    m = re.fullmatch(r"block(\d)([a-z])_(expand_conv|expand_bn|dwconv|bn|se_reduce|se_expand|project_conv|project_bn)",
                     layer)
    if not m:
        raise KeyError(layer)
    stage, index, part = int(m.group(1)) - 1, ord(m.group(2)) - ord("a"), m.group(3)
    first = stage == 0
    parts = {"expand_conv": "conv_pw", "expand_bn": "bn1", "dwconv": "conv_dw", "bn": "bn1" if first else "bn2",
             "se_reduce": "se.conv_reduce", "se_expand": "se.conv_expand",
             "project_conv": "conv_pw" if first else "conv_pwl", "project_bn": "bn2" if first else "bn3"}
    if first and part.startswith("expand"):
        raise KeyError(layer)
    return f"backbone.net.blocks.{stage}.{index}.{parts[part]}"


def acr_key(layer: str, weight: str, head_layer: str) -> tuple[str, tuple[int, ...] | None]:
    """(facealign key, transpose to torch layout or None) of one Keras array (MobileNetV2 or EfficientNet)."""
    name = weight.rsplit("/", 1)[-1].split(":")[0]
    if layer == head_layer:
        return f"head.fc.{'weight' if name == 'kernel' else 'bias'}", ((1, 0) if name == "kernel" else None)
    efficientnet = layer.startswith(("stem_", "top_")) or re.match(r"block\d[a-z]_", layer) is not None
    base = _efficientnet_layer_key(layer) if efficientnet else _layer_key(layer)
    if name == "bias":  # squeeze-excite convolutions have biases
        return f"{base}.bias", None
    if name in _BN:
        return f"{base}.{_BN[name]}", None
    if name == "kernel":
        return f"{base}.weight", (3, 2, 0, 1)
    if name == "depthwise_kernel":
        return f"{base}.weight", (2, 3, 0, 1)
    raise KeyError(weight)


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


# The largest ACR network, EfficientNet-B3, holds 12 M weights; a file declaring more is refused
# from its header, before any array is read (an HDF5 file can declare terabytes in a few bytes).
MAX_KERAS_VALUES = 50_000_000


def read_keras_arrays(path: Path) -> list[tuple[str, str, np.ndarray]]:
    """(layer, weight name, array) of every weight of a Keras ``model.save`` .h5, in file order
    (string attributes as bytes, as TF 2.6 wrote them, or as str).

    Every listed array's layer, type and declared shape are checked before any array is read;
    arrays holding NaN or infinite values are refused.
    """
    import h5py

    if not path.is_file():
        raise FaceAlignError(f"{path}: file not found")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise FaceAlignError(f"{path}: not an HDF5 file (expected the ACR authors' Keras .h5)") from None
    with f:
        listed = _listed_datasets(f, path)
        total = sum(int(np.prod(ds.shape)) for _, _, ds in listed)
        if total > MAX_KERAS_VALUES:
            raise FaceAlignError(f"{path}: its arrays declare {total:,} values, over the limit of {MAX_KERAS_VALUES:,} "
                                 "(the largest ACR model has 12 M)")
        out = []
        for layer, w, ds in listed:
            a = np.asarray(ds, dtype=np.float32)
            if not np.isfinite(a).all():
                raise FaceAlignError(f"{path}: weight {layer}/{w} holds NaN or infinite values")
            out.append((layer, w, a))
    return out


def _listed_datasets(f: Any, path: Path) -> list[tuple[str, str, Any]]:
    """(layer, weight name, h5py dataset) of every weight the file lists, checked but not read."""
    import h5py

    g = f.get("model_weights", f)
    if "layer_names" not in g.attrs:
        raise FaceAlignError(f"{path}: no Keras layer list (attribute layer_names); not a Keras model.save file")
    listed = []
    for layer in (_text(x) for x in np.atleast_1d(g.attrs["layer_names"])):
        lg = g.get(layer)
        if not isinstance(lg, h5py.Group):
            raise FaceAlignError(f"{path}: lists layer {layer!r} but the file has no such group")
        for w in (_text(x) for x in np.atleast_1d(lg.attrs.get("weight_names", []))):
            ds = lg.get(w)
            if not isinstance(ds, h5py.Dataset):
                raise FaceAlignError(f"{path}: layer {layer!r} lists weight {w!r} but the file has no such array")
            if ds.dtype.kind not in "fiu":
                raise FaceAlignError(f"{path}: weight {layer}/{w} holds {ds.dtype} values, not numbers")
            if ds.ndim == 0:
                raise FaceAlignError(f"{path}: weight {layer}/{w} is a single number, not an array")
            listed.append((layer, w, ds))
    if not listed:
        raise FaceAlignError(f"{path}: lists no weights")
    return listed


def _arch_of(layers: list[str], path: Path) -> str:
    """``mobilenetv2``, ``efficientnet_b0`` or ``efficientnet_b3`` from the Keras layer names."""
    if "Conv1" in layers and any(layer.startswith("block_") for layer in layers):
        return "mobilenetv2"
    if "stem_conv" in layers:
        # B0 has 16 blocks (1a ... 7a), B3 26: the stage-2 letters tell them apart (b vs c)
        blocks = {layer.split("_")[0] for layer in layers if re.match(r"block\d[a-z]_", layer)}
        return {16: "efficientnet_b0", 26: "efficientnet_b3"}.get(len(blocks), f"efficientnet with {len(blocks)} blocks")
    raise FaceAlignError(f"{path}: not a Keras MobileNetV2 or EfficientNet (no Conv1/block_* or stem_conv layers)")


ARCHS = {"mobilenetv2": ("mobilenetv2_100", dict(KERAS_OPTIONS), 0.1),
         "efficientnet_b0": ("tf_efficientnet_b0", {}, 0.5),
         "efficientnet_b3": ("tf_efficientnet_b3", {}, 0.5)}


def convert_acr(path: str | Path, arch: str | None = None, dataset: str | None = None) -> LandmarkModel:
    """An ACR ``.h5`` (MobileNetV2, EfficientNet-B0 or -B3) as a facealign regression model (224 px,
    centre S/2, TensorFlow padding and BatchNorm eps).

    Raises:
        FaceAlignError: not such a file, an unmapped layer, or a shape that does not fit (named).
    """
    p = Path(path)
    arrays = read_keras_arrays(p)
    layers = [layer for layer, _, _ in arrays]
    found = _arch_of(layers, p)
    if found not in ARCHS:
        raise FaceAlignError(f"{p}: a Keras {found}; ACR models are MobileNetV2, EfficientNet-B0 or -B3")
    if arch is not None and arch != found:
        raise FaceAlignError(f"{p}: the file holds {found}, not the {arch} asked for")
    head_layer = layers[-1]
    out_dim = arrays[-1][2].shape[-1] if arrays[-1][1].endswith("bias:0") else arrays[-1][2].shape[0]
    points = int(out_dim) // 2
    scheme = SCHEMES_BY_POINTS.get(points)
    if scheme is None or (dataset is not None and dataset != scheme):
        raise FaceAlignError(f"{p}: the head predicts {points} points; ACR models have 68 (300w) or 29 (cofw)"
                             + (f", and --dataset {dataset} needs {[k for k, v in SCHEMES_BY_POINTS.items() if v == dataset]}"
                                if dataset else ""))
    backbone, options, dropout = ARCHS[found]
    cfg = ModelConfig(scheme=scheme, backbone=backbone, head="regression", input_size=224, box="landmarks",
                      dropout=dropout, backbone_options=options, regression_centre="half",
                      crop="acr")
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
        raise FaceAlignError(f"{p}: does not fit facealign's {found} ({len(problems)} arrays, e.g. {problems[:2]}; "
                             f"{len(missing)} weights missing, e.g. {missing[:2]})")
    model.load_state_dict(state, strict=False)
    digest, blob = file_digests(p)
    entry = released_by_digest(blob)
    released = f"aliprf/ACR-Loss {entry.repo_path}" if entry else "not a released file"
    model.info = {"source": "ACR (Fard & Mahoor, ICPR 2022) released checkpoint", "source_file": p.name,
                  "source_sha256": digest, "source_git_blob_sha1": blob,
                  "released_as": released,
                  "licence": "CC BY-NC-ND 4.0: non-commercial, do not share converted files"}
    return model.eval()
