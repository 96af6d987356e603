"""Hardening, round three (docs/robustness.md): bounded work for any input, never touching what
facealign did not write, no silent wrong answers, one line instead of a traceback.

Each table row builds a hostile input in a temporary folder and names the exit code and the line
expected; every row failed (a traceback, a hang, gigabytes, a lost file or a silent wrong result)
before the causes were fixed.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml
from conftest import ASTRONAUT, REPO, YTF, dead_pid, rewrite_model_file, run_cli, tiny_config

from facealign.cli.main import main

VAL_IMG = sorted((YTF / "val" / "images").glob("*.jpg"))[0]
HEADER = "file," + ",".join(f"x{i},y{i}" for i in range(68))
MEMORY_LIMIT = 3 << 30  # heap (RLIMIT_DATA) of each hostile run: a runaway allocation fails instead of taking the machine
PEAK_RSS_GOAL_MB = 1024


def _png(t, name, h, w):
    p = t / name
    assert cv2.imwrite(str(p), np.zeros((h, w, 3), np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return p


def _crafted_model(t, m, edit_config=None, edit_state=None, edit_meta=None):
    return rewrite_model_file(m, t / "crafted.safetensors", edit_config, edit_state, edit_meta)


def _giant_backbone(t, m):
    return _crafted_model(t, m, lambda c: c.update(backbone="vit_giant_patch14_224"))


def _h5(t, build):
    import h5py

    p = t / "acr.h5"
    with h5py.File(p, "w") as f:
        g = f.create_group("model_weights")
        build(g)
    return p


def _h5_declaring_8gib(g):
    g.attrs["layer_names"] = [b"Conv1"]
    lg = g.create_group("Conv1")
    lg.attrs["weight_names"] = [b"Conv1/kernel:0"]
    lg.create_dataset("Conv1/kernel:0", shape=(1 << 31,), dtype="float32", chunks=(1 << 16,))


def _alias_bomb(t):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    lines += ["epochs: *a8"]
    (t / "bomb.yaml").write_text("\n".join(lines) + "\n")
    assert (t / "bomb.yaml").stat().st_size < 1024
    return t / "bomb.yaml"


def _fifo_csv(t):
    os.mkfifo(t / "l.csv")
    return t / "l.csv"


def _fifo(t, name):
    os.mkfifo(t / name)
    return t / name


def _fifo_image(t):
    (t / "images").mkdir()
    os.mkfifo(t / "images" / "a.jpg")
    row = "a.jpg," + ",".join(f"{10 + i % 17},{12 + i % 11}" for i in range(68))
    (t / "l.csv").write_text(HEADER + "\n" + row + "\n")
    return t / "l.csv"


def _hdr(t):
    p = t / "x.hdr"
    assert cv2.imwrite(str(p), np.zeros((300, 400, 3), np.float32))
    return p


# ---- 1. work and memory bounded before anything is allocated -----------------------------------
# (argv builder, exit code, pattern); every run in a child process under MEMORY_LIMIT, peak RSS checked
BOUNDS = {
    "a 600x29000 PNG searched at every roll": (
        lambda t, m: ["predict", str(_png(t, "wide.png", 600, 29000)), "--out", str(t / "o"), "--rolled"], 0, "images processed"),
    "a 1.8 KB 10x60000 PNG": (
        lambda t, m: ["predict", str(_png(t, "thin.png", 10, 60000)), "--out", str(t / "o")], 1,
        r"thin\.png: image is 60000x10 pixels, more than 50 times longer than wide"),
    "a Radiance .hdr, whose size is not known before decoding": (
        lambda t, m: ["predict", str(_hdr(t)), "--out", str(t / "o")], 1, r"x\.hdr: not a readable image"),
    "a small safetensors naming a giant backbone": (
        lambda t, m: ["export", str(_giant_backbone(t, m)), "--out", str(t / "x.onnx")], 2,
        r"crafted\.safetensors: its config names a network of [\d,]+ weights, over the limit"),
    "an ACR .h5 declaring 8 GiB": (
        lambda t, m: ["import", "acr", str(_h5(t, _h5_declaring_8gib)), "--out", str(t / "x.safetensors")], 2,
        r"acr\.h5: its arrays declare 2,147,483,648 values, over the limit"),
    "a 1 KB YAML alias bomb": (
        lambda t, m: ["train", str(_alias_bomb(t))], 2, r"bomb\.yaml: line 2: YAML aliases \(\*name\) are not accepted"),
    "data check on a CSV that is a FIFO": (
        lambda t, m: ["data", "check", "--data", f"csv:{_fifo_csv(t)}"], 2, r"l\.csv: not a regular file"),
    "predict on a FIFO named .jpg": (
        lambda t, m: ["predict", str(_fifo(t, "f.jpg")), "--out", str(t / "o")], 2, r"f\.jpg: not a regular file"),
    "data check on a CSV naming a FIFO as its image": (
        lambda t, m: ["data", "check", "--data", f"csv:{_fifo_image(t)}"], 1, r"a\.jpg: not a regular file"),
}

_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_DATA, ({limit}, {limit}))
from facealign.cli.main import main
rc = main(sys.argv[1:])
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
hwm = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(f"PEAK_RSS_MB {{hwm // 1024}}", file=sys.stderr)
sys.exit(rc)
"""


@pytest.mark.parametrize("name", list(BOUNDS))
def test_hostile_input_is_bounded(name, tmp_path, small_model):
    make, code, pattern = BOUNDS[name]
    argv = make(tmp_path, small_model)
    env = {**os.environ, "PYTHONPATH": str(REPO), "FACEALIGN_CACHE": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-c", _CHILD.format(limit=MEMORY_LIMIT), *argv], env=env, capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    text = res.stderr + res.stdout
    assert res.returncode == code, f"{name}: exit {res.returncode}\n{text[-2000:]}"
    assert re.search(pattern, text), f"{name}: {pattern!r} not in\n{text[-2000:]}"
    assert "Traceback" not in text
    peak = int(re.search(r"PEAK_RSS_MB (\d+)", text).group(1))
    assert peak < PEAK_RSS_GOAL_MB, f"{name}: peak memory {peak} MB"


def test_rolled_search_of_a_large_thin_image_still_finds_a_rolled_face():
    """Scaling before turning (the bound above, for turned canvases over TURN_FIRST_MAX_PIXELS)
    still finds a rolled face: the astronaut turned by 90 degrees on a 512 x 16896 canvas."""
    from facealign.detect import SearchPolicy, YuNetDetector
    from facealign.detect.policy import ALL_ROLLS
    from facealign.predict.images import to_rgb_array

    img = to_rgb_array(ASTRONAUT)
    turned = np.ascontiguousarray(np.rot90(img))
    canvas = np.zeros((turned.shape[0], turned.shape[1] * 33, 3), np.uint8)
    from facealign.detect.yunet import TURN_FIRST_MAX_PIXELS

    assert canvas.shape[0] * canvas.shape[1] > TURN_FIRST_MAX_PIXELS  # the scale-first path
    canvas[:, :turned.shape[1]] = turned
    det = YuNetDetector(SearchPolicy(rolls=ALL_ROLLS)).detect(canvas)
    assert len(det) >= 1 and abs(abs(float(det.roll[0])) - 90) < 1e-3
    kp = det.keypoints[0]
    assert kp[:, 0].max() < turned.shape[1]  # the face is in the left part, where it was put


# ---- 3. never delete or overwrite what facealign did not write ---------------------------------

def test_crop_never_removes_the_users_own_face_files(tmp_path, small_model):
    d = tmp_path / "D"
    d.mkdir()
    (tmp_path / "x.png").write_bytes(cv2.imencode(".png", cv2.imread(str(ASTRONAUT)))[1].tobytes())
    for i in (1, 2):  # the user's own files, named as a crop would be
        (d / f"x_face{i}.png").write_bytes(b"mine")
    rc, err = run_cli("crop", tmp_path / "x.png", "--out", d, "--model", small_model, "--detector", "full")
    assert rc == 2 and "x_face1.png: exists and was not written by facealign (and 1 more)" in err
    rc, _ = run_cli("crop", tmp_path / "x.png", "--out", d, "--model", small_model, "--detector", "full", "--overwrite")
    assert rc == 0
    assert (d / "x_face1.png").read_bytes() == b"mine" and (d / "x_face2.png").read_bytes() == b"mine"
    assert (d / "x_face0.png").is_file()


def test_crop_rerun_removes_only_crops_its_last_run_wrote(tmp_path, small_model):
    d = tmp_path / "D"
    src = tmp_path / "x.jpg"
    src.write_bytes(ASTRONAUT.read_bytes())
    boxes = tmp_path / "b.json"
    boxes.write_text(json.dumps({"x.jpg": [[100, 50, 300, 250], [10, 10, 90, 90]]}))
    assert run_cli("crop", src, "--out", d, "--model", small_model, "--detector", boxes)[0] == 0
    assert sorted(p.name for p in d.iterdir()) == ["x_crops.json", "x_face0.png", "x_face1.png"]
    boxes.write_text(json.dumps({"x.jpg": [[100, 50, 300, 250]]}))
    assert run_cli("crop", src, "--out", d, "--model", small_model, "--detector", boxes)[0] == 0
    assert sorted(p.name for p in d.iterdir()) == ["x_crops.json", "x_face0.png"]


def test_crop_into_its_input_folder_does_not_crop_its_crops(tmp_path, small_model):
    d = tmp_path / "in"
    d.mkdir()
    (d / "x.jpg").write_bytes(ASTRONAUT.read_bytes())
    for _ in range(2):
        rc, err = run_cli("crop", d, "--out", d, "--model", small_model, "--detector", "full")
        assert rc == 0 and err.startswith("1 images")
    assert sorted(p.name for p in d.iterdir()) == ["x.jpg", "x_crops.json", "x_face0.png"]


def _clip(path, frames=4, image=None):
    img = cv2.imread(str(image or ASTRONAUT)) if image is not False else None
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for _ in range(frames):
        w.write(cv2.resize(img, (160, 120)) if img is not None else np.zeros((120, 160, 3), np.uint8))
    w.release()
    return path


def test_two_clips_of_one_stem_keep_separate_results(tmp_path, small_model):
    d = tmp_path / "in"
    d.mkdir()
    _clip(d / "clip.avi", 3)
    _clip(d / "clip.mkv", 5)
    rc, _ = run_cli("predict", d, "--out", tmp_path / "o", "--model", small_model, "--detector", "full")
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["clip.avi.jsonl", "clip.mkv.jsonl"]
    assert len((tmp_path / "o" / "clip.mkv.jsonl").read_text().splitlines()) == 5


@pytest.mark.parametrize("argv", [
    lambda t, m: ["data", "convert", "--data", f"csv:{YTF / 'val' / 'landmarks.csv'}", "--out", str(t / "mine.csv")],
    lambda t, m: ["export", str(m), "--out", str(t / "mine.csv")],
    lambda t, m: ["pca", "--data", f"csv:{YTF / 'val' / 'landmarks.csv'}", "--out", str(t / "mine.csv"), "--draws", "0"],
], ids=["data convert", "export", "pca"])
def test_single_file_outputs_are_not_overwritten_without_asking(argv, tmp_path, small_model):
    (tmp_path / "mine.csv").write_text("mine")
    rc, err = run_cli(*argv(tmp_path, small_model))
    assert rc == 2 and re.search(r"mine\.csv: exists; pass --overwrite", err), err
    assert (tmp_path / "mine.csv").read_text() == "mine"


def test_a_long_video_name_gets_temporary_names_that_fit(tmp_path, small_model):
    name = "v" * 240 + ".avi"  # the file system's limit is 255 bytes; the outputs fit, the old temporary name did not
    clip = _clip(tmp_path / name, 2)
    rc, err = run_cli("predict", clip, "--out", tmp_path / "o", "--model", small_model, "--detector", "full")
    assert rc == 0, err
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["v" * 240 + ".jsonl"]


def test_resume_removes_only_facealigns_dead_temporary_files(tmp_path, small_model):
    from facealign.utils.io import remove_dead_temps_under

    (tmp_path / ".notes.tmp").write_text("mine")
    dead = tmp_path / f".a.json.{dead_pid()}.abcd1234.tmp"
    dead.write_text("{")
    assert remove_dead_temps_under(tmp_path) == [dead]
    assert (tmp_path / ".notes.tmp").read_text() == "mine"



# ---- 4. no silent wrong answers -----------------------------------------------------------------
def test_ray_shards_of_another_run_are_refused_or_rewritten(tmp_path):
    from facealign.distributed.ray_predict import plan_run
    from facealign.errors import FaceAlignError

    names = [tmp_path / "shard-00000.jsonl", tmp_path / "shard-00001.jsonl"]
    shards = [["a.jpg", "b.jpg"], ["c.jpg"]]
    opts = {"detector": "auto", "shard_size": 2, "format": "jsonl"}
    assert plan_run(tmp_path, names, shards, "1" * 64, opts, False) == [0, 1]
    names[0].write_text("old\n")
    assert plan_run(tmp_path, names, shards, "1" * 64, opts, False) == [1]  # same run: resumed
    with pytest.raises(FaceAlignError, match="written with another model"):
        plan_run(tmp_path, names, shards, "2" * 64, opts, False)
    with pytest.raises(FaceAlignError, match="written with another options"):
        plan_run(tmp_path, names, shards, "1" * 64, {**opts, "detector": "dlib"}, False)
    with pytest.raises(FaceAlignError, match="shard-00000.jsonl: covers other images"):
        plan_run(tmp_path, names, [["a.jpg", "x.jpg"], ["c.jpg"]], "1" * 64, opts, False)
    assert plan_run(tmp_path, names, shards, "2" * 64, opts, True) == [0, 1]
    assert not names[0].exists()
    (tmp_path / "facealign_ray_run.json").unlink()
    names[1].write_text("old\n")
    with pytest.raises(FaceAlignError, match="holds shards without a record"):
        plan_run(tmp_path, names, shards, "1" * 64, opts, False)
    damaged = {"model_sha256": "1" * 64, "options": opts, "shards": ["shard-00001.jsonl"]}
    (tmp_path / "facealign_ray_run.json").write_text(json.dumps(damaged))
    with pytest.raises(FaceAlignError, match="holds shards without a record"):
        plan_run(tmp_path, names, shards, "1" * 64, opts, False)


def test_a_path_always_wins_over_a_registered_name(tmp_path, small_model, monkeypatch):
    from facealign.zoo import resolve

    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    rc, err = run_cli("import", "h3r", tmp_path / "none.pth", "--out", tmp_path / "x.safetensors", "--name", "best.safetensors")
    assert rc == 2 and "model name 'best.safetensors' looks like a file name" in err
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").write_bytes(small_model.read_bytes())  # a file named like the bundled model
    assert resolve("default").resolve() == tmp_path / "default"


def _negative_variance(state):
    k = next(k for k in state if k.endswith("running_var"))
    state[k] = -state[k] - 1


def _half_weight(state):
    k = next(k for k, v in state.items() if v.is_floating_point() and v.ndim == 4)
    state[k] = state[k].half()


def _deep_meta(meta):
    meta["info"] = "[" * 100000 + "]" * 100000


@pytest.mark.parametrize("edit,pattern", [
    (dict(edit_state=_negative_variance), r"running_var holds negative variances"),
    (dict(edit_state=_half_weight), r"is stored as F16 where the model needs F32"),
    (dict(edit_meta=_deep_meta), r"model metadata is nested too deeply"),
], ids=["negative BatchNorm variance", "dtype other than the model's", "deeply nested metadata"])
def test_crafted_safetensors_are_refused_at_load(edit, pattern, tmp_path, small_model):
    p = _crafted_model(tmp_path, small_model, **edit)
    rc, err = run_cli("predict", ASTRONAUT, "--model", p, "--detector", "full", "--out", tmp_path / "o")
    assert rc == 2 and re.search(pattern, err), err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def _onnx_graph(tmp_path, small_model, edit):
    import onnx

    from facealign.export.onnx import export_onnx
    from facealign.models.landmark_model import load_model_file

    p = export_onnx(load_model_file(small_model), tmp_path / "m.onnx")
    g = onnx.load(str(p))
    edit(g, onnx)
    onnx.save(g, str(p))
    return p


def _first_crop_only(g, onnx):
    """Outputs that hold the first crop's answer only, under the declared [B, K, 2] / [B, K] shapes."""
    from onnx import helper

    for n, v in (("s0", 0), ("s1", 1), ("ax", 0)):
        g.graph.initializer.append(onnx.numpy_helper.from_array(np.array([v], np.int64), n))
    for out in g.graph.output:
        g.graph.node.append(helper.make_node("Slice", [out.name, "s0", "s1", "ax"], [out.name + "_first"]))
        out.name = out.name + "_first"


def _nan_weights(g, onnx):
    init = next(i for i in g.graph.initializer if len(i.dims) == 4)
    arr = onnx.numpy_helper.to_array(init).copy()
    arr[:] = np.nan
    init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))


@pytest.mark.parametrize("edit,pattern", [
    (_first_crop_only, r"on a batch of 2 crops the graph gives points \[1, 68, 2\]"),
    (_nan_weights, r"the graph gives NaN or infinite landmarks"),
], ids=["answers for the first crop only", "NaN weights"])
def test_onnx_graphs_are_run_on_a_batch_of_two_at_load(edit, pattern, tmp_path, small_model):
    p = _onnx_graph(tmp_path, small_model, edit)
    rc, err = run_cli("predict", ASTRONAUT, "--model", p, "--detector", "full", "--out", tmp_path / "o")
    assert rc == 2 and re.search(pattern, err), err


def test_api_boxes_outside_the_image_are_refused(small_model):
    from facealign import FaceAligner
    from facealign.errors import FaceAlignError

    al = FaceAligner(small_model, detector="full")
    img = np.zeros((100, 120, 3), np.uint8)
    with pytest.raises(FaceAlignError, match=r"lies entirely outside the 120x100 image"):
        al.predict(img, boxes=np.array([[5000.0, 5000, 5100, 5100]]))
    with pytest.raises(FaceAlignError, match=r"within the range of 32-bit floats"):
        al.predict(img, boxes=np.array([[0, 0, 1e308, 1e308]]))
    assert al.predict(img, boxes=np.array([[-10.0, -10, 50, 60]])).landmarks.shape == (1, 68, 2)  # cut by the edge: kept


def test_tracked_faces_say_the_detector_did_not_confirm_them(tmp_path, small_model):
    clip = _clip(tmp_path / "c.avi", 4)
    rc, err = run_cli("predict", clip, "--out", tmp_path / "o", "--model", small_model, "--detector", "full",
                   "--detect-every", "2")
    assert rc == 0, err
    assert re.search(r"video frames\s*│?\s*4\b", err) and "images processed" not in err  # the summary counts frames
    frames = [json.loads(x) for x in (tmp_path / "o" / "c.jsonl").read_text().splitlines()]
    faces = [f["faces"][0] for f in frames]
    assert [f["tracked"] for f in faces] == [False, True, False, True]
    assert [f["detection_score"] is None for f in faces] == [False, True, False, True]


# ---- 5. one line instead of a traceback ---------------------------------------------------------
def _h5_missing_layer(g):
    g.attrs["layer_names"] = [b"Conv1"]


def _h5_string_weight(g):
    g.attrs["layer_names"] = [b"Conv1"]
    lg = g.create_group("Conv1")
    lg.attrs["weight_names"] = [b"k"]
    lg.create_dataset("k", data=np.array([b"abc", b"def"]))


def _h5_scalar_weight(g):
    g.attrs["layer_names"] = [b"Conv1"]
    lg = g.create_group("Conv1")
    lg.attrs["weight_names"] = [b"k"]
    lg.create_dataset("k", data=np.float32(1))


def _coco(t, data):
    (t / "c.json").write_text(data if isinstance(data, str) else json.dumps(data))
    return ["data", "check", "--data", f"coco:{t / 'c.json'}"]


def _train_cfg(t, text=None):
    if text is None:
        text = yaml.safe_dump(tiny_config(t))
    (t / "c.yaml").write_text(text)
    return t / "c.yaml"


def _csv(t, raw: bytes):
    (t / "images").mkdir(exist_ok=True)
    (t / "images" / "a.jpg").write_bytes(VAL_IMG.read_bytes())
    (t / "l.csv").write_bytes(raw)
    return ["data", "check", "--data", f"csv:{t / 'l.csv'}"]


def _row(value=None):
    return "a.jpg," + ",".join([value] * 136 if value else [f"{60 + i % 17},{70 + i % 11}" for i in range(68)])


def _missing_h3r_key(t):
    """The fixture H3R checkpoint (the authors' layout) with one BatchNorm variance deleted."""
    import torch
    from conftest import DATA

    state = torch.load(DATA / "fixtures" / "seed-checkpoints" / "h3r" / "mobilenetv2_seeded.pth", map_location="cpu",
                       weights_only=True)
    state = state.get("state_dict", state)
    key = next(k for k in state if k.endswith("running_var"))
    del state[key]
    torch.save(state, t / "model.pth")
    return key


ONE_LINE = {
    "predict --out naming a file": (
        lambda t, m: ((t / "f").write_text("x"), ["predict", str(ASTRONAUT), "--model", str(m), "--out", str(t / "f")])[1],
        2, r"f: --out must be a folder, and a file of that name exists"),
    "predict --out in an unwritable place": (
        lambda t, m: ((t / "f").write_text("x"), ["predict", str(ASTRONAUT), "--model", str(m), "--out", str(t / "f" / "o")])[1],
        2, r"f: is a file, so .*f/o cannot be made"),
    "crop --size 100000": (lambda t, m: ["crop", str(ASTRONAUT), "--out", str(t), "--size", "100000"], 2,
                           r"argument --size: must be an integer in \[16, 4096\], got '100000'"),
    "serve --port 99999": (lambda t, m: ["serve", "--port", "99999"], 2, r"argument --port: must be an integer in \[0, 65535\]"),
    "serve --max-upload-mb 1e308": (lambda t, m: ["serve", "--max-upload-mb", "1e308"], 2,
                                    r"argument --max-upload-mb: must be a number in \[0.001, 1024\], got '1e308'"),
    "serve --detector boxes.json": (
        lambda t, m: ((t / "b.json").write_text("{}"), ["serve", "--model", str(m), "--detector", str(t / "b.json")])[1],
        2, r"b\.json: a boxes file names faces per image file; a server gets uploads"),
    "ACR .h5 missing a listed layer": (lambda t, m: ["import", "acr", str(_h5(t, _h5_missing_layer)), "--out", str(t / "x.safetensors")],
                                       2, r"acr\.h5: lists layer 'Conv1' but the file has no such group"),
    "ACR .h5 with a string dataset": (lambda t, m: ["import", "acr", str(_h5(t, _h5_string_weight)), "--out", str(t / "x.safetensors")],
                                      2, r"acr\.h5: weight Conv1/k holds .* values, not numbers"),
    "ACR .h5 with a scalar weight": (lambda t, m: ["import", "acr", str(_h5(t, _h5_scalar_weight)), "--out", str(t / "x.safetensors")],
                                     2, r"acr\.h5: weight Conv1/k is a single number, not an array"),
    "COCO keypoints of wrong types": (
        lambda t, m: _coco(t, {"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "keypoints": ["x"] * 3}]}),
        2, r"c\.json: annotation 0: keypoints must be a flat list of numbers"),
    "COCO images not a list": (lambda t, m: _coco(t, {"images": 5, "annotations": []}), 2, r"must have lists 'images' and 'annotations'"),
    "COCO JSON nested 100000 deep": (lambda t, m: _coco(t, "[" * 100000 + "]" * 100000), 2, r"c\.json: JSON nested too deeply"),
    "train --set on a list config": (lambda t, m: ["train", str(_train_cfg(t, "- 1\n- 2\n")), "--set", "epochs=1"], 2,
                                     r"c\.yaml: a training config is a mapping of keys to values, got a list"),
    "train --set epochs.x=1": (lambda t, m: ["train", str(_train_cfg(t)), "--set", "epochs.x=1"], 2,
                               r"c\.yaml: --set epochs\.x: epochs is a value \(\d+\), not a section"),
    "train --set 'epochs=[1'": (lambda t, m: ["train", str(_train_cfg(t)), "--set", "epochs=[1"], 2,
                                r"--set epochs=\[1: line 1: not valid YAML"),
    "non-UTF-8 CSV": (lambda t, m: _csv(t, (HEADER + "\n" + _row()).encode() + b"\xff\xfe\n"), 2, r"l\.csv: not a UTF-8 text file"),
    "CSV with a UTF-8 BOM is read": (lambda t, m: _csv(t, b"\xef\xbb\xbf" + (HEADER + "\n" + _row() + "\n").encode()), 0, r"faces\s+.*1"),
    "CSV coordinates of 1e308": (lambda t, m: _csv(t, (HEADER + "\n" + _row("1e308") + "\n").encode()), 2,
                                 r"l\.csv:2: point 0 is not within the range of 32-bit floats"),
    "non-UTF-8 Ray manifest": (
        lambda t, m: ((t / "m.txt").write_bytes(b"\xff\xfe/x.jpg\n"), ["predict", str(t / "m.txt"), "--engine", "ray", "--out", str(t / "o")])[1],
        2, r"m\.txt: not a UTF-8 text file"),
    "rich markup in --out": (
        lambda t, m: ["predict", str(ASTRONAUT), "--model", str(m), "--detector", "full", "--out", str(t / "mk[/x]")], 0,
        r"mk\[/x\]"),
    "import of a checkpoint missing a key names the file's key": (
        lambda t, m: ["import", "h3r", str(t / "model.pth"), "--out", str(t / "x.safetensors")] if _missing_h3r_key(t) else [],
        2, r"1 missing, e\.g\. \['backbone\.[^']*running_var'\]"),
}


@pytest.mark.parametrize("name", list(ONE_LINE))
def test_one_line_not_a_traceback(name, tmp_path, small_model, capsys, monkeypatch):
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    make, code, pattern = ONE_LINE[name]
    rc = main([str(a) for a in make(tmp_path, small_model)])
    out = capsys.readouterr()
    text = out.err + out.out
    assert rc == code, f"{name}: exit {rc}\n{text[-1500:]}"
    assert re.search(pattern, text), f"{name}: {pattern!r} not in\n{text[-1500:]}"
    assert "Traceback" not in text


def test_a_bfloat16_tensor_is_converted():
    torch = pytest.importorskip("torch")
    from facealign.predict.images import to_rgb_array

    t = torch.rand(3, 20, 30).to(torch.bfloat16)
    a = to_rgb_array(t)
    assert a.shape == (20, 30, 3) and a.dtype == np.uint8
    np.testing.assert_allclose(a, (t.float().permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8), atol=1)


def test_memory_limit_is_a_real_limit():
    """The limit the hostile runs get is enforced: a child that allocates past it fails."""
    code = (f"import resource; resource.setrlimit(resource.RLIMIT_DATA, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
            "b = bytearray(4 << 30)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode != 0 and "MemoryError" in res.stderr
    assert resource.RLIMIT_DATA  # the platform has the limit at all


def test_a_registered_file_under_a_markup_like_folder_is_listed(tmp_path, small_model, monkeypatch, capsys):
    from facealign.zoo import register_user_model

    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "q[/r]"  # a folder 'q[' holding 'r]': rich read '[/r]' as a closing tag
    folder.mkdir(parents=True)
    (folder / "m.safetensors").write_bytes(small_model.read_bytes())
    register_user_model("mine", folder / "m.safetensors")
    capsys.readouterr()
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "q[/r]/m.safetensors" in out and "Traceback" not in out
