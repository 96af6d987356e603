import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from conftest import ASTRONAUT, YTF

from facealign.cli.main import main
from facealign.data.crop import crop_matrix, warp_crop
from facealign.errors import FaceAlignError
from facealign.export import export_onnx
from facealign.models import HeatmapConfig, create_model, save_model
from facealign.predict import FaceAligner
from facealign.predict.runners import OnnxRunner


def real_crops(ytf_val, size, n=8):
    return np.stack([warp_crop(s.load_image(), crop_matrix(s.landmark_box(), size), size) for s in ytf_val.samples[:n]])


HEADS = [
    ("regression", {}, False),
    ("regression", {}, True),
    ("heatmap", {"target": "rr", "decoder": "topk"}, False),
    ("heatmap", {"target": "rr", "decoder": "topk"}, True),
    ("heatmap", {"target": "gaussian", "decoder": "argmax"}, False),
    ("heatmap", {"target": "rr", "decoder": "soft_argmax", "two_class": True}, False),
]


@pytest.mark.parametrize("head,hm,flip", HEADS)
@pytest.mark.parametrize("decode", ["in-graph", "none"])
def test_parity_torch_vs_onnxruntime(tmp_path, ytf_val, head, hm, flip, decode):
    torch.manual_seed(0)
    model = create_model("mobilenetv2", head=head, input_size=64, heatmap=HeatmapConfig(**hm), flip_test=flip).eval()
    # trained-like BN statistics so the maps are not flat
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
    path = export_onnx(model, tmp_path / "m.onnx", decode=decode, source_sha256="ab" * 32)
    rt = OnnxRunner(path, threads=1)
    assert rt.config.head == head and rt.scheme.num_points == 68 and rt.source_sha256 == "ab" * 32
    crops = real_crops(ytf_val, 64)
    p_ort, s_ort = rt.predict_crops(crops)
    p_pt, s_pt = model.predict(torch.from_numpy(crops).permute(0, 3, 1, 2))
    assert np.abs(p_ort - p_pt.double().numpy()).max() <= 0.01
    assert np.abs(s_ort - s_pt.numpy()).max() <= 1e-3
    big = np.concatenate([crops] * 5)  # dynamic batch
    assert rt.predict_crops(big)[0].shape == (40, 68, 2)


def test_metadata_in_file(tmp_path):
    model = create_model("mobilenetv2", input_size=64, crop_scale=1.3).eval()
    export_onnx(model, tmp_path / "m.onnx")
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    cfg = json.loads(meta["facealign_config"])
    assert cfg["input_size"] == 64 and cfg["crop_scale"] == 1.3 and cfg["scheme"] == "300w"
    assert meta["decode"] == "in-graph" and "mean" in cfg and "std" in cfg


def test_cli_export_and_onnx_backend(tmp_path, capsys):
    torch.manual_seed(0)
    src = save_model(create_model("mobilenetv2", input_size=64).eval(), tmp_path / "m.safetensors")
    out = tmp_path / "m.onnx"
    assert main(["export", str(src), "--format", "onnx", "--out", str(out)]) == 0
    assert "dynamic batch" in capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    from facealign.zoo import sha256_file

    assert meta["source_sha256"] == sha256_file(src)
    a_t = FaceAligner(src, detector="cascade")
    a_o = FaceAligner(out, detector="cascade", backend="onnx", threads=1)
    r_t, r_o = a_t.predict(ASTRONAUT), a_o.predict(ASTRONAUT)
    assert len(r_t) == len(r_o) >= 1
    assert np.abs(r_t.landmarks - r_o.landmarks).max() <= 0.01
    # a safetensors model with backend onnx is exported once into the cache
    a_c = FaceAligner(src, detector="cascade", backend="onnx")
    assert np.abs(a_c.predict(ASTRONAUT).landmarks - r_t.landmarks).max() <= 0.01


def test_onnx_path_does_not_import_torch(tmp_path):
    torch.manual_seed(0)
    out = export_onnx(create_model("mobilenetv2", input_size=64).eval(), tmp_path / "m.onnx")
    code = (f"import sys\nfrom facealign.predict.aligner import FaceAligner\n"
            f"a = FaceAligner({str(out)!r}, detector='cascade', backend='onnx')\n"
            f"r = a.predict({str(ASTRONAUT)!r})\nassert len(r) >= 1\n"
            f"assert 'torch' not in sys.modules, 'torch was imported'\nprint('ok')")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]


def test_evaluate_backend_onnx_matches_torch(tmp_path, capsys):
    torch.manual_seed(0)
    src = save_model(create_model("mobilenetv2", input_size=64).eval(), tmp_path / "m.safetensors")

    from conftest import subset_csv

    data = f"csv:{subset_csv(tmp_path, 'val', 20)}"
    common = ["evaluate", "--data", data, "--images", str(YTF / "val" / "images"), "--model", str(src), "--json"]
    assert main(common) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(common + ["--backend", "onnx"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["n"] == b["n"] == 20 and abs(a["nme"] - b["nme"]) < 1e-3


def test_bad_onnx_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage")
    with pytest.raises(FaceAlignError, match="not a loadable ONNX model"):
        OnnxRunner(bad)
    m = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]),
        opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(m, str(tmp_path / "plain.onnx"))
    with pytest.raises(FaceAlignError, match="not one exported by facealign"):
        OnnxRunner(tmp_path / "plain.onnx")


def test_int8_quantization_keeps_accuracy(tmp_path, ytf_val, capsys):
    """The bundled (trained) RR model, quantized on 32 YTF-68 train faces, scored on 40 val faces."""
    from facealign.data.sample import LandmarkSet
    from facealign.export.quantize import quantize_int8
    from facealign.metrics.nme import nme
    from facealign.predict.on_dataset import predict_dataset_numpy

    out = tmp_path / "int8.onnx"
    train = f"csv:{YTF / 'train' / 'landmarks.csv'}"
    assert main(["export", "ytf68-mnv2-128-rr", "--out", str(out), "--quantize", "int8", "--calibration", train,
                 "--calibration-faces", "32"]) == 0
    assert "int8 (calibrated on 32 faces)" in " ".join(capsys.readouterr().out.split())
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["quantization"] == "int8" and meta["decode"] == "none" and meta["calibration_faces"] == "32"
    fp32 = tmp_path / "fp32.onnx"
    assert main(["export", "ytf68-mnv2-128-rr", "--out", str(fp32), "--decode", "none"]) == 0
    val = LandmarkSet("val40", ytf_val.scheme, ytf_val.samples[:40])
    p8, s8 = predict_dataset_numpy(OnnxRunner(out, threads=1), val)
    p32, _ = predict_dataset_numpy(OnnxRunner(fp32, threads=1), val)
    gt = val.landmarks()
    assert p8.shape == gt.shape and s8.shape == gt.shape[:2]
    assert np.linalg.norm(p8 - p32, axis=-1).mean() < 0.5  # image pixels
    assert abs(nme(p8, gt, val.scheme).mean() - nme(p32, gt, val.scheme).mean()) < 0.003
    # the int8 file runs behind FaceAligner like any ONNX file
    r = FaceAligner(out, detector="cascade", backend="onnx", threads=1).predict(ASTRONAUT)
    assert len(r) >= 1 and r.landmarks.shape[1:] == (68, 2)
    # errors: no calibration set, an in-graph or already quantized source
    assert main(["export", "ytf68-mnv2-128-rr", "--out", str(tmp_path / "x.onnx"), "--quantize", "int8"]) == 2
    assert "--calibration" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()
    crops = real_crops(ytf_val, 128, 2)
    with pytest.raises(FaceAlignError, match="already quantized"):
        quantize_int8(out, tmp_path / "y.onnx", crops)
    ingraph = tmp_path / "ingraph.onnx"
    assert main(["export", "ytf68-mnv2-128-rr", "--out", str(ingraph)]) == 0
    with pytest.raises(FaceAlignError, match="decode 'none'"):
        quantize_int8(ingraph, tmp_path / "y.onnx", crops)
    assert not (tmp_path / "y.onnx").exists()


def test_flip_on_an_onnx_file_exported_without_it_and_flip_shift_in_the_graph(tmp_path, ytf_val):
    """--flip on an in-graph file exported without flip averaging runs the mirrored crops as a
    second batch (it was ignored before); a model's flip_shift moves the mirrored pass in the graph
    and in numpy alike; a file whose graph averages flips refuses to run without them."""
    torch.manual_seed(0)
    shift = tuple(float(v) for v in np.linspace(0.02, 0.05, 68))
    model = create_model("mobilenetv2", head="heatmap", input_size=64, flip_shift=shift).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
    crops = real_crops(ytf_val, 64)
    want, _ = model.predict(torch.from_numpy(crops).permute(0, 3, 1, 2), flip=True)
    plain = OnnxRunner(export_onnx(model, tmp_path / "plain.onnx"), threads=1)
    assert np.abs(plain.predict_crops(crops, flip=True)[0] - want.double().numpy()).max() <= 0.01
    assert np.abs(plain.predict_crops(crops)[0] - plain.predict_crops(crops, flip=True)[0]).max() > 0.05
    model.config.flip_test = True
    for decode in ("in-graph", "none"):
        rt = OnnxRunner(export_onnx(model, tmp_path / f"flip_{decode}.onnx", decode=decode), threads=1)
        assert rt.config.flip_shift == shift
        assert np.abs(rt.predict_crops(crops)[0] - want.double().numpy()).max() <= 0.01
    with pytest.raises(FaceAlignError, match="flip averaging is built into this ONNX file"):
        OnnxRunner(tmp_path / "flip_in-graph.onnx").predict_crops(crops, flip=False)


def test_small_batches_run_on_one_thread_with_the_same_landmarks():
    """Without a thread count, a batch of one or two crops runs on a one-thread session (the
    detector runs between such batches); larger batches and a user's thread count use the pool."""
    from facealign.predict.runners import SMALL_BATCH, OnnxRunner, onnx_runner

    runner = onnx_runner("default")
    crops = np.random.default_rng(0).integers(0, 255, (4, 128, 128, 3), np.uint8)
    assert isinstance(runner, OnnxRunner)
    small = runner._session_for(SMALL_BATCH)
    assert small is not runner.session and runner._session_for(SMALL_BATCH + 1) is runner.session
    assert small.get_session_options().intra_op_num_threads == 1
    one, _ = runner.predict_crops(crops[:1])
    four, _ = runner.predict_crops(crops)
    np.testing.assert_allclose(one[0], four[0], atol=1e-3)
    fixed = onnx_runner("default", threads=2)
    assert fixed._session_for(1) is fixed.session
