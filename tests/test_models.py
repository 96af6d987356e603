import pickle

import pytest
import torch

from facealign.errors import ConfigError, FaceAlignError
from facealign.models import LandmarkModel, ModelConfig, create_model, read_model_file, save_model
from facealign.zoo import load_model


@pytest.mark.parametrize("backbone,channels", [("mobilenetv2", 1280), ("efficientnet-b0", 1280), ("efficientnet-b3", 1536),
                                               ("resnet18", 512)])
def test_backbones_from_timm(backbone, channels):
    m = create_model(backbone, scheme="cofw", input_size=64, he_uniform=backbone.startswith("eff"))
    assert m.backbone.out_channels == channels
    out = m(torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8))
    assert out.shape == (2, 58)


def test_uint8_and_float_inputs_agree():
    m = create_model("mobilenetv2", input_size=64).eval()
    x = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    torch.testing.assert_close(m(x), m(x.float() / 255))


def test_save_load_round_trip_and_custom_scheme(tmp_path):
    scheme = {"name": "five", "num_points": 5, "flip_pairs": [[0, 1], [3, 4]], "outer_eye_corners": [0, 1]}
    m = create_model("mobilenetv2", scheme=scheme, input_size=64).eval()
    p = save_model(m, tmp_path / "m.safetensors", {"note": "x"})
    m2 = load_model(p)
    x = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(m(x), m2(x))
    assert m2.scheme.num_points == 5 and m2.info == {"note": "x"}
    cfg, state, info = read_model_file(p)
    assert cfg.input_size == 64 and isinstance(cfg.scheme, dict)


def test_bad_model_files(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"hello world")
    with pytest.raises(FaceAlignError, match="not a facealign model file"):
        load_model(bad)
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(FaceAlignError, match="not a facealign model"):
        load_model(tmp_path / "other.safetensors")
    m = create_model("mobilenetv2", input_size=64)
    p = save_model(m, tmp_path / "m.safetensors")
    data = p.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(FaceAlignError, match="trunc.safetensors"):
        load_model(tmp_path / "trunc.safetensors")


def test_pickle_payload_is_never_executed(tmp_path):
    """A torch.save'd pickle with a code payload is refused as a model and as a checkpoint."""
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"model": Payload()}))
    with pytest.raises(FaceAlignError):
        load_model(evil)
    torch.save({"model": Payload()}, tmp_path / "evil.ckpt")
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(tmp_path / "evil.ckpt", weights_only=True)
    assert not marker.exists()


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        ModelConfig.from_dict({"colour": 1})
    with pytest.raises(ConfigError, match="input_size must be an integer"):
        ModelConfig.from_dict({"input_size": "big"})
    with pytest.raises(ConfigError, match="unknown backbone"):
        LandmarkModel(ModelConfig(backbone="no_such_net"))
    with pytest.raises(ConfigError, match=r"model config: head must be one of \['regression', 'heatmap'\], got 'magic'"):
        LandmarkModel(ModelConfig(head="magic"))
    with pytest.raises(ConfigError, match=r"crop must be one of \['facealign', 'h3r', 'acr'\], got 'mine'"):
        LandmarkModel(ModelConfig(crop="mine"))


def test_atomic_files_get_normal_permissions(tmp_path):
    import os

    from facealign.models import create_model, save_model
    from facealign.utils.io import atomic_write_text

    atomic_write_text(tmp_path / "a.txt", "x")
    save_model(create_model("mobilenetv2", input_size=64), tmp_path / "m.safetensors")  # safetensors writes its own file
    mask = os.umask(0)
    os.umask(mask)
    for name in ("a.txt", "m.safetensors"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_backbone_weights_from_a_local_file(tmp_path):
    """ImageNet-style classification weights of the same timm model load into the backbone."""
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(1)
    clf = timm.create_model("mobilenetv2_100", pretrained=False)
    save_file({k: v.contiguous() for k, v in clf.state_dict().items()}, str(tmp_path / "w.safetensors"))
    torch.save(clf.state_dict(), tmp_path / "w.pth")
    for f in ("w.safetensors", "w.pth"):
        m = create_model("mobilenetv2", input_size=64, pretrained_file=tmp_path / f)
        torch.testing.assert_close(m.backbone.net.conv_stem.weight, clf.conv_stem.weight)
        hm = create_model("mobilenetv2", head="heatmap", input_size=64, pretrained_file=tmp_path / f)
        torch.testing.assert_close(hm.backbone.net.conv_stem.weight, clf.conv_stem.weight)
    with pytest.raises(FaceAlignError, match="only .* backbone tensors match"):
        create_model("efficientnet_b0", input_size=64, pretrained_file=tmp_path / "w.pth")
