"""Bad input across every command: a table of cases, each with its exact expected outcome.

Each case builds its input in a temporary folder and returns the command line; the outcome is
the exit code and a pattern that must appear in the command's error output (or standard output
for documented successes). Exit code 2 = refused with a clear error; 1 = completed but reported
problems; 0 = accepted (documented behaviour).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import scipy.io as sio
import yaml
from conftest import ASTRONAUT, OFFICIAL, REPO, YTF, tiny_config

from facealign.cli.main import main
from facealign.models import create_model, save_model

HEADER = "file," + ",".join(f"x{i},y{i}" for i in range(68))
VAL_IMG = sorted((YTF / "val" / "images").glob("*.jpg"))[0]


@pytest.fixture
def model_file(small_model):
    return small_model


def row(name="a.jpg", n=68, value=None, dx=0):
    """A CSV row: every coordinate ``value``, or by default a small face-like spread of points
    (shifted right by ``dx``)."""
    if value is not None:
        return name + "," + ",".join([value] * (2 * n))
    return name + "," + ",".join(f"{10 + dx + i % 17},{12 + i % 11}" for i in range(n))


def csv_case(text, images=True):
    def make(t, m):
        (t / "images").mkdir(exist_ok=True)
        if images:
            (t / "images" / "a.jpg").write_bytes(VAL_IMG.read_bytes())
        (t / "l.csv").write_text(text)
        return ["data", "check", "--data", f"csv:{t / 'l.csv'}"]
    return make


def pts_case(n_points, body_end="}\n", extra=None):
    def make(t, m):
        good = "version: 1\nn_points: 68\n{\n" + "5 5\n" * 68 + "}\n"
        (t / "a.pts").write_text(good)
        (t / "a.jpg").write_bytes(VAL_IMG.read_bytes())
        (t / "b.pts").write_text(f"version: 1\nn_points: {n_points}\n{{\n" + "5 5\n" * n_points + body_end)
        (t / "b.jpg").write_bytes(VAL_IMG.read_bytes())
        return ["data", "check", "--data", f"300w:{t}"]
    return make


def image_case(writer):
    def make(t, m):
        p = writer(t)
        return ["predict", str(p), "--model", str(m), "--detector", "full", "--out", str(t / "out")]
    return make


def write_cv(name, arr, params=()):
    def w(t):
        p = t / name
        assert cv2.imwrite(str(p), arr, list(params))
        return p
    return w


def cmyk(t):
    from PIL import Image

    p = t / "cmyk.jpg"
    Image.open(ASTRONAUT).convert("CMYK").save(p)
    return p


def wflw_case(mutate):
    def make(t, m):
        src = OFFICIAL / "wflw" / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / "list_98pt_rect_attr_test.txt"
        fields = src.read_text().splitlines()[0].split()
        (t / "a.txt").write_text(" ".join(mutate(fields)) + "\n")
        return ["data", "check", "--data", f"wflw:{t / 'a.txt'}", "--images", str(OFFICIAL / "wflw" / "WFLW_images")]
    return make


def with_box(x1, y1, x2, y2):
    def f(fields):
        fields[196:200] = [str(x1), str(y1), str(x2), str(y2)]
        return fields
    return f


def train_case(t, text):
    """``facealign train`` on a one-image CSV (the same face twice, so one batch of 2 fits)."""
    (t / "images").mkdir(exist_ok=True)
    (t / "images" / "a.jpg").write_bytes(VAL_IMG.read_bytes())
    lines = text.strip().splitlines()
    (t / "l.csv").write_text("\n".join(lines + lines[1:]) + "\n")
    cfg = tiny_config(t, batch_size=2)
    cfg["data"] = {"train": f"csv:{t / 'l.csv'}", "images": str(t / "images")}
    (t / "c.yaml").write_text(yaml.safe_dump(cfg))
    return ["train", str(t / "c.yaml"), "--quiet"]


def cfg_case(**over):
    def make(t, m):
        cfg = tiny_config(t)
        for k, v in over.items():
            cur = cfg
            *parts, last = k.split(".")
            for p in parts:
                cur = cur[p]
            cur[last] = v
        (t / "c.yaml").write_text(yaml.safe_dump(cfg))
        return ["train", str(t / "c.yaml"), "--quiet"]
    return make


def model_case(make_model):
    def make(t, m):
        p = make_model(t, m)
        return ["evaluate", "--data", f"csv:{YTF / 'val' / 'landmarks.csv'}", "--model", str(p)]
    return make


def truncated_model(t, m):
    data = m.read_bytes()
    (t / "trunc.safetensors").write_bytes(data[: len(data) // 3])
    return t / "trunc.safetensors"


def pickle_model(t, m):
    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {t / 'pwned'}",))

    (t / "evil.safetensors").write_bytes(pickle.dumps({"state": Payload()}))
    return t / "evil.safetensors"


def wflw_model(t, m):
    return save_model(create_model("mobilenetv2", scheme="wflw", input_size=64), t / "wflw.safetensors")


def tampered(t, m):
    return f"{m.as_uri()}#sha256={'0' * 64}"


CASES = {
    # ---- missing / empty / malformed files --------------------------------------------------
    "missing data file": (lambda t, m: ["data", "check", "--data", f"csv:{t / 'none.csv'}"], 2, "no such file"),
    "empty csv": (csv_case(""), 2, "empty CSV file"),
    "csv wrong column count": (csv_case(HEADER + "\n" + row() + ",7\n"), 2, r"l\.csv:2: expected 137 columns, found 138"),
    "csv non-numeric": (csv_case(HEADER + "\n" + row(value="x") + "\n"), 2, r"l\.csv:2: non-numeric value 'x'"),
    "csv NaN": (csv_case(HEADER + "\n" + row(value="nan") + "\n"), 2, r"l\.csv:2: point 0 is not a finite number"),
    "csv duplicate file names = two faces (documented)": (
        csv_case(HEADER + "\n" + row() + "\n" + row() + "\n"), 0, "faces"),
    "csv image that does not exist": (csv_case(HEADER + "\n" + row() + "\n", images=False), 1, "image file not found"),
    "csv path escapes the root": (csv_case(HEADER + "\n" + row("../../etc/passwd") + "\n"), 2, "escapes the data-set root"),
    "pts too few points": (pts_case(67), 2, r"b\.pts: expected 68 points, found 67"),
    "pts too many points": (pts_case(69), 2, r"b\.pts: expected 68 points, found 69"),
    "pts missing brace": (pts_case(68, body_end=""), 2, r"b\.pts: no closing '\}' found"),
    "wflw line with 205 fields": (wflw_case(lambda f: f[:204] + f[-1:]), 2, r"a\.txt:1: expected 207 fields .* found 205"),
    "wflw zero-size box": (wflw_case(with_box(10, 10, 10, 50)), 2, r"a\.txt:1: face box .* zero or negative size"),
    "wflw negative-size box": (wflw_case(with_box(50, 50, 10, 10)), 2, "zero or negative size"),
    "wflw box entirely outside the image": (wflw_case(with_box(5000, 5000, 5100, 5100)), 1, "lies entirely outside the image"),
    "cofw mat missing a field": (
        lambda t, m: (sio.savemat(t / "c.mat", {"phisT": np.zeros((1, 87)), "bboxesT": np.ones((1, 4))}),
                      ["data", "check", "--data", f"cofw:{t / 'c.mat'}"])[1], 2, r"c\.mat: missing field 'IsT'"),
    "cofw not a mat file": (
        lambda t, m: ((t / "c.mat").write_text("hello"), ["data", "check", "--data", f"cofw:{t / 'c.mat'}"])[1],
        2, r"c\.mat: not a readable MATLAB file"),
    "lapa count line wrong": (
        lambda t, m: ((t / "test" / "landmarks").mkdir(parents=True), (t / "test" / "images").mkdir(),
                      (t / "test" / "landmarks" / "a.txt").write_text("98\n" + "1 1\n" * 98),
                      ["data", "check", "--data", f"lapa:{t}"])[-1], 2, r"a\.txt:1: count line says 98 points; LaPa has 106"),
    # ---- images ----------------------------------------------------------------------------
    "truncated jpeg": (image_case(lambda t: (t / "trunc.jpg").write_bytes(ASTRONAUT.read_bytes()[:3000]) and t / "trunc.jpg"),
                       1, r"trunc\.jpg: not a readable image"),
    "text file named .jpg": (image_case(lambda t: (t / "text.jpg").write_text("hello") and t / "text.jpg"),
                             1, r"text\.jpg: not a readable image"),
    "empty image file": (image_case(lambda t: (t / "empty.png").write_bytes(b"") == 0 and t / "empty.png"),
                         1, r"empty\.png: image file is empty"),
    "greyscale image": (image_case(write_cv("grey.png", np.full((60, 50), 128, np.uint8))), 0, "images processed"),
    "rgba image": (image_case(write_cv("rgba.png", np.full((60, 50, 4), 200, np.uint8))), 0, "images processed"),
    "16-bit image": (image_case(write_cv("deep.png", np.full((60, 50, 3), 40000, np.uint16))), 0, "images processed"),
    "cmyk jpeg": (image_case(cmyk), 0, "images processed"),
    "1x1 image": (image_case(write_cv("one.png", np.zeros((1, 1, 3), np.uint8))), 0, "images processed"),
    "10000x10000 image is refused, not decoded": (
        image_case(write_cv("huge.png", np.zeros((10000, 10000, 3), np.uint8), (cv2.IMWRITE_PNG_COMPRESSION, 1))),
        1, r"huge\.png: image is 10000x10000 pixels, over the limit"),
    "frame with no face: empty result": (
        lambda t, m: ["predict", str(write_cv("blank.png", np.full((120, 160, 3), 90, np.uint8))(t)), "--model", str(m),
                      "--detector", "cascade", "--out", str(t / "o")], 0, "images without a face"),
    # ---- folders -----------------------------------------------------------------------------
    "empty folder": (lambda t, m: ((t / "e").mkdir(), ["predict", str(t / "e"), "--model", str(m)])[1], 2, "folder has no images"),
    "folder with no images": (lambda t, m: ((t / "e").mkdir(), (t / "e" / "x.txt").write_text("x"),
                                            ["predict", str(t / "e"), "--model", str(m)])[-1], 2, "folder has no images"),
    # ---- boxes ----------------------------------------------------------------------------------
    "boxes file with zero-size box": (
        lambda t, m: ((t / "b.csv").write_text("file,x1,y1,x2,y2\nastronaut.jpg,5,5,5,9\n"),
                      ["predict", str(ASTRONAUT), "--model", str(m), "--boxes", str(t / "b.csv")])[1],
        2, r"b\.csv: line 2: box .* zero or negative size"),
    "boxes file not found": (lambda t, m: ["predict", str(ASTRONAUT), "--model", str(m), "--boxes", str(t / "nope.json")],
                             2, "boxes file not found"),
    # ---- models ------------------------------------------------------------------------------
    "file that is not a model": (model_case(lambda t, m: (t / "x.safetensors").write_text("hi") and t / "x.safetensors"),
                                 2, r"x\.safetensors: not a facealign model file"),
    "truncated model file": (model_case(truncated_model), 2, r"trunc\.safetensors: not a facealign model file"),
    "pickle with a code payload": (model_case(pickle_model), 2, r"evil\.safetensors: not a facealign model file"),
    "model for another scheme than the data": (model_case(wflw_model), 2, "model predicts 98 points"),
    "tampered checksum": (model_case(tampered), 2, "sha256 mismatch"),
    "unknown model name": (model_case(lambda t, m: "no-such-model"), 2, "no such model file or name"),
    "pca on a missing data set": (lambda t, m: ["pca", "--data", f"csv:{t / 'none.csv'}", "--out", str(t / "s.npz")],
                                  2, "no such file"),
    "export of a file that is not a model": (
        lambda t, m: ((t / "x.safetensors").write_text("hi"), ["export", str(t / "x.safetensors"), "--out", str(t / "x.onnx")])[1],
        2, r"x\.safetensors: not a facealign model file"),
    # ---- configs -----------------------------------------------------------------------------
    "config unknown key": (cfg_case(**{"optim.learnrate": 0.1}), 2, r"c\.yaml: unknown key 'optim\.learnrate'"),
    "config wrong type": (cfg_case(**{"batch_size": "big"}), 2, r"c\.yaml: batch_size must be an integer, got 'big'"),
    "config unknown loss": (cfg_case(**{"loss.name": "hinge"}), 2, "loss.name 'hinge' is not a regression loss"),
    **{f"config {key}={value}": (cfg_case(**{key: value}), 2, rf"c\.yaml: {re.escape(key)} must be")
       for key, value in [("optim.lr", -0.01), ("workers", -1), ("threads", -1), ("model.dropout", 2.0),
                          ("model.input_size", 0), ("model.crop_scale", 0), ("model.std", [0, 1, 1]),
                          ("optim.lr", float("nan")), ("val_batch_size", 0)]},
    # ---- arguments out of range (one line naming the argument; nothing runs) -------------------
    **{f"predict {flag} {value}": (
        lambda t, m, flag=flag, value=value: ["predict", str(ASTRONAUT), "--model", str(m), "--out", str(t / "o"), flag, value],
        2, rf"argument {flag}: must be (an integer|a number) >= [0-9.]+, got '{value}'")
       for flag, value in [("--batch", "0"), ("--batch", "-1"), ("--refine", "-3"), ("--threads", "-1"), ("--threads", "x"),
                           ("--max-frames", "0"), ("--detect-every", "0"), ("--min-face", "2"), ("--min-face", "nan"),
                           ("--max-face", "-5")]},
    "train --devices 0": (lambda t, m: ["train", str(t / "c.yaml"), "--devices", "0"], 2, r"argument --devices: must be an integer >= 1"),
    "evaluate --batch-size 0": (lambda t, m: ["evaluate", "--data", f"csv:{t / 'x.csv'}", "--batch-size", "0"], 2,
                                r"argument --batch-size: must be an integer >= 1"),
    "export --opset 7": (lambda t, m: ["export", str(m), "--out", str(t / "m.onnx"), "--opset", "7"], 2,
                         r"argument --opset: must be an integer >= 13"),
    "predict --max-face below --min-face": (
        lambda t, m: ["predict", str(ASTRONAUT), "--model", str(m), "--out", str(t / "o"), "--min-face", "40", "--max-face", "30"],
        2, r"max_face must be >= min_face \(40.0\), got 30.0"),
    # ---- degenerate annotations ----------------------------------------------------------------
    "csv face with all points at one place": (csv_case(HEADER + "\n" + row(value="10") + "\n"), 1,
                                              r"l\.csv:2: the 68 landmarks span 0 px \(all at one place\)"),
    "train on a face with all points at one place": (
        lambda t, m: train_case(t, HEADER + "\n" + row(value="10") + "\n"), 2, r"the 68 landmarks span 0 px"),
    "train on a face far outside its image": (
        lambda t, m: train_case(t, HEADER + "\n" + row(dx=100000) + "\n"), 2,
        r"l\.csv:2: the landmarks \(100010, 12\)-\(100026, 22\) lie outside the \d+x\d+ image"),
    # ---- video -------------------------------------------------------------------------------
    "video that cannot be opened": (
        lambda t, m: ((t / "v.mp4").write_bytes(b"\x00" * 64), ["predict", str(t / "v.mp4"), "--model", str(m), "--out", str(t)])[1],
        2, r"v\.mp4: cannot open video"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path, model_file, capsys, monkeypatch):
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    make, code, pattern = CASES[name]
    argv = make(tmp_path, model_file)
    got = main(argv)
    out = capsys.readouterr()
    text = out.err + out.out
    assert got == code, f"{name}: exit {got}, expected {code}\n{text[-1500:]}"
    import re

    assert re.search(pattern, text), f"{name}: {pattern!r} not in output:\n{text[-1500:]}"
    assert "Traceback" not in text
    assert not (tmp_path / "pwned").exists()


def test_at_least_30_cases():
    assert len(CASES) >= 30


def test_predict_folder_killed_then_skip_existing(tmp_path, model_file):
    """SIGKILL a folder run half-way: only complete JSON files remain; --skip-existing finishes."""
    src = tmp_path / "in"
    src.mkdir()
    files = sorted((YTF / "val" / "images").glob("*.jpg"))[:60]
    for f in files:
        (src / f.name).write_bytes(f.read_bytes())
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "facealign", "predict", str(src), "--model", str(model_file), "--detector", "full",
           "--out", str(out), "--batch", "2", "--refine", "0"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or len(list(out.glob("*.json"))) < 10):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = list(out.glob("*.json"))
    assert 10 <= len(done) < 60
    for f in done:
        json.loads(f.read_text())  # every file present is complete
    res = subprocess.run(cmd + ["--skip-existing"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(list(out.glob("*.json"))) == 60
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left
