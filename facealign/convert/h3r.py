"""The H3R authors' released ``model.pth`` (baoshengyu/H3R, torchalign's FacialLandmarkDetector) as
a facealign heatmap model.

Their files are plain state dicts: ``backbone.*`` (torchvision-style MobileNetV2 cut after the
stride-16 stage, or HRNet) and ``heatmap_head.head.layers.{0,1,3}.*`` (1x1 conv, BatchNorm, ReLU,
1x1 conv to 2K channels). facealign builds the same networks from timm, so converting is renaming:
the map below, checked key by key and shape by shape, then a strict load. Decoding is the same by
construction (top-9 softmax, cell x stride with no half-pixel offset, flip x -> S - 1 - x).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from facealign.convert.released import released_by_digest
from facealign.errors import FaceAlignError
from facealign.models.config import ModelConfig
from facealign.models.landmark_model import LandmarkModel

# --arch -> timm backbone of facealign
H3R_ARCHS = {"mobilenetv2": "mobilenetv2_100", "hrnet18": "hrnet_w18", "hrnet32": "hrnet_w32"}
# 2K output channels of the head -> scheme
SCHEMES_BY_POINTS = {98: "wflw", 68: "300w", 106: "lapa"}
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# torchvision-style MobileNetV2 features.k -> timm blocks.s.j (stage sizes 1, 2, 3, 4, 3)
_MNV2_STAGES = (1, 2, 3, 4, 3)
# inside an inverted residual with expansion: conv.{0,1} pw + bn, {3,4} dw + bn, {6,7} pwl + bn
_MNV2_EXPANDED = {"0": "conv_pw", "1": "bn1", "3": "conv_dw", "4": "bn2", "6": "conv_pwl", "7": "bn3"}
_MNV2_FIRST = {"0": "conv_dw", "1": "bn1", "3": "conv_pw", "4": "bn2"}  # features.1: no expansion


def _mnv2_block(k: int) -> tuple[int, int]:
    """features index k (1-based blocks after the stem) -> (timm stage, index in stage)."""
    i = k - 1
    for s, n in enumerate(_MNV2_STAGES):
        if i < n:
            return s, i
        i -= n
    raise KeyError(k)


def h3r_key(key: str, arch: str) -> str:
    """The facealign state-dict key of an H3R key (KeyError when it has none)."""
    m = re.fullmatch(r"heatmap_head\.head\.layers\.(\d+)\.(.+)", key)
    if m:
        return f"head.block.{m.group(1)}.{m.group(2)}"
    if not key.startswith("backbone."):
        raise KeyError(key)
    rest = key[len("backbone."):]
    if arch.startswith("hrnet"):
        return f"backbone.net.{rest}"
    m = re.fullmatch(r"features\.0\.([01])\.(.+)", rest)
    if m:
        return f"backbone.net.{'conv_stem' if m.group(1) == '0' else 'bn1'}.{m.group(2)}"
    m = re.fullmatch(r"features\.(\d+)\.conv\.(\d+)\.(.+)", rest)
    if m:
        k = int(m.group(1))
        s, j = _mnv2_block(k)
        part = (_MNV2_FIRST if k == 1 else _MNV2_EXPANDED)[m.group(2)]
        return f"backbone.net.blocks.{s}.{j}.{part}.{m.group(3)}"
    raise KeyError(key)


def h3r_key_map(state: dict[str, torch.Tensor], arch: str) -> dict[str, str]:
    """H3R key -> facealign key for every entry (FaceAlignError naming the keys that map nowhere)."""
    out, unknown = {}, []
    for k in state:
        try:
            out[k] = h3r_key(k, arch)
        except KeyError:
            unknown.append(k)
    if unknown:
        raise FaceAlignError(f"not an H3R {arch} checkpoint: {len(unknown)} keys map nowhere, e.g. {unknown[:3]}")
    return out


def _names_in_file(keys: list[str], names: dict[str, str]) -> list[str]:
    """The names missing facealign weights ``keys`` have in the user's file: the file's name of a
    weight of the same layer with the last part swapped (``names``: file key -> facealign key)."""
    layers = {v.rsplit(".", 1)[0]: k.rsplit(".", 1)[0] for k, v in names.items()}
    out = []
    for key in keys:
        layer, leaf = key.rsplit(".", 1)
        out.append(f"{layers[layer]}.{leaf}" if layer in layers
                   else f"{key} (facealign's name; the file has no weight of its layer)")
    return out


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    """The state dict of an H3R file; weights only (no pickled code runs), wrappers accepted."""
    if not path.is_file():
        raise FaceAlignError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():  # torch's note on unusual pickle protocols; the load itself decides
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling refusal or corrupt zip
        first = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise FaceAlignError(f"{path}: not a PyTorch weights file that loads without code ({first})") from None
    for wrapper in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise FaceAlignError(f"{path}: expected a state dict of tensors (the H3R authors' model.pth)")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def _infer_arch(state: dict[str, torch.Tensor], path: Path) -> str:
    if any(k.startswith("backbone.features.") for k in state):
        return "mobilenetv2"
    stem = state.get("backbone.stage2.0.branches.0.0.conv1.weight")
    if stem is not None:
        return {18: "hrnet18", 32: "hrnet32"}.get(int(stem.shape[0]), "hrnet18")
    raise FaceAlignError(f"{path}: cannot tell the architecture (neither MobileNetV2 nor HRNet keys); pass --arch")


def convert_h3r(path: str | Path, arch: str | None = None, dataset: str | None = None,
                input_size: int | None = None, box: str | None = None) -> LandmarkModel:
    """An H3R ``model.pth`` as a facealign model (eval mode, flip test-time augmentation on).

    Args:
        arch: ``mobilenetv2``, ``hrnet18`` or ``hrnet32``; default: read from the keys.
        dataset: ``wflw``, ``300w`` or ``lapa``; default: from the number of points of the head.
        input_size: Crop side; default: the released file's (recognised by its digest in
            ``convert/released.json``), else 256.
        box: ``landmarks`` (P1) or ``dataset`` (P2, WFLW's rectangles) for ``evaluate``; default:
            the released file's (:attr:`ReleasedCheckpoint.eval_box`), else ``landmarks``.

    Raises:
        FaceAlignError: the file is not such a checkpoint, or names/shapes do not fit (each named).
    """
    from facealign.utils.digests import sha256_file

    p = Path(path)
    state = _read_state(p)
    arch = arch or _infer_arch(state, p)
    if arch not in H3R_ARCHS:
        raise FaceAlignError(f"unknown H3R architecture {arch!r}; choose one of {list(H3R_ARCHS)}")
    last = state.get("heatmap_head.head.layers.3.weight")
    if last is None or last.ndim != 4 or last.shape[0] % 2:
        raise FaceAlignError(f"{p}: no H3R heatmap head (heatmap_head.head.layers.3.weight of shape (2K, C, 1, 1))")
    points = int(last.shape[0]) // 2
    scheme = SCHEMES_BY_POINTS.get(points)
    if dataset is not None:
        if dataset not in SCHEMES_BY_POINTS.values():
            raise FaceAlignError(f"unknown dataset {dataset!r}; choose one of {sorted(SCHEMES_BY_POINTS.values())}")
        if dataset != scheme:
            raise FaceAlignError(f"{p}: the head predicts {points} points, not the {dataset} scheme's")
        scheme = dataset
    if scheme is None:
        raise FaceAlignError(f"{p}: the head predicts {points} points; H3R models have 98 (WFLW), 68 (300-W) or 106 (LaPa)")
    digest = sha256_file(p)
    released = released_by_digest(digest)
    size = input_size or (released.input_size if released else 256)
    box = box or (released.eval_box if released else "landmarks")
    if box not in ("landmarks", "dataset"):
        raise FaceAlignError(f"box must be 'landmarks' (P1) or 'dataset' (P2), got {box!r}")
    cfg = ModelConfig(scheme=scheme, backbone=H3R_ARCHS[arch], head="heatmap", input_size=size, crop_scale=1.25,
                      box=box, mean=IMAGENET_MEAN, std=IMAGENET_STD, flip_test=True, crop="h3r")
    model = LandmarkModel(cfg)
    mine = model.state_dict()
    names = h3r_key_map(state, arch)
    renamed = {names[k]: v for k, v in state.items()}
    missing = _names_in_file(sorted(set(mine) - set(renamed)), names)
    unexpected = sorted(set(renamed) - set(mine))
    wrong = [f"{k} {tuple(v.shape)} vs {tuple(mine[k].shape)}" for k, v in renamed.items()
             if k in mine and v.shape != mine[k].shape]
    if missing or unexpected or wrong:
        raise FaceAlignError(f"{p}: does not fit facealign's {arch} ({len(missing)} missing, e.g. {missing[:2]}; "
                             f"{len(unexpected)} unexpected, e.g. {unexpected[:2]}; "
                             f"{len(wrong)} shapes differ, e.g. {wrong[:2]})")
    bad = next((k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
    if bad is not None:
        raise FaceAlignError(f"{p}: weight {bad} holds NaN or infinite values")
    model.load_state_dict(renamed, strict=True)
    model.info = {"source": "H3R (Yu & Tao, TPAMI 2021) released checkpoint", "source_file": p.name,
                  "source_sha256": digest, "released_as": released.repo_path if released else "not a released file",
                  "licence": "the H3R repository has no licence: do not redistribute"}
    return model.eval()
