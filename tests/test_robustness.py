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
from conftest import ASTRONAUT, OFFICIAL, REPO, YTF, dead_pid, rewrite_model_file, run_cli, tiny_config

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


def cofw_model(t, m):
    return save_model(create_model("mobilenetv2", scheme="cofw", input_size=64), t / "cofw.safetensors")


def crafted_model(edit_config=None, edit_state=None, name="crafted"):
    """The small model rewritten with its config (a dict) or weights (a dict of tensors) edited."""
    def make(t, m):
        return rewrite_model_file(m, t / f"{name}.safetensors", edit_config, edit_state)
    return make


def _set(**values):
    def edit(cfg):
        for key, value in values.items():
            *path, last = key.split("__")
            d = cfg
            for part in path:
                d = d.setdefault(part, {})
            d[last] = value
    return edit


def _first_weight(fn):
    def edit(state):
        k = next(k for k, v in state.items() if v.is_floating_point() and v.ndim == 4)
        state[k] = fn(state[k])
    return edit


def heatmap_model(t, m):
    return save_model(create_model("mobilenetv2", head="heatmap", input_size=64), t / "hm.safetensors")


def crafted_heatmap(**values):
    def make(t, m):
        return crafted_model(_set(**values), name="hm_crafted")(t, heatmap_model(t, m))
    return make


def onnx_case(edit_meta=None, decode="in-graph"):
    """predict with the small model exported to ONNX, its metadata edited (key -> new value)."""
    def make(t, m):
        import onnx

        from facealign.export.onnx import export_onnx
        from facealign.models.landmark_model import load_model_file

        p = export_onnx(load_model_file(m), t / "m.onnx", decode=decode)
        if edit_meta:
            g = onnx.load(str(p))
            props = {x.key: x.value for x in g.metadata_props}
            edit_meta(props)
            del g.metadata_props[:]
            for k, v in props.items():
                g.metadata_props.add(key=k, value=v)
            onnx.save(g, str(p))
        return ["predict", str(ASTRONAUT), "--model", str(p), "--detector", "full", "--backend", "onnx",
                "--out", str(t / "o")]
    return make


def _onnx_config(**values):
    def edit(props):
        cfg = json.loads(props["facealign_config"])
        _set(**values)(cfg)
        props["facealign_config"] = json.dumps(cfg)
    return edit


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
    "model for another scheme than the data": (model_case(cofw_model), 2,
                                                r"model predicts 29 points \(cofw\).* no map between the two is declared"),
    "tampered checksum": (model_case(tampered), 2, "sha256 mismatch"),
    # crafted model files: every config value checked at load, naming the file
    **{f"model config {key}={value!r}": (model_case(crafted_model(_set(**{key: value}))), 2,
                                         rf"crafted\.safetensors: {key}\b")
       for key, value in [("input_size", 0), ("input_size", -64), ("input_size", 1e9), ("crop_scale", 0),
                          ("crop_scale", float("nan")), ("std", [0, 1, 1]), ("std", [1, 1]), ("mean", [0, 0, "x"]),
                          ("dropout", 5), ("head", "mystery"), ("box", "elsewhere"), ("crop", "round"),
                          ("regression_centre", "left")]},
    **{f"heatmap model config {key}={value!r}": (model_case(crafted_heatmap(**{key: value})), 2,
                                                 rf"hm_crafted\.safetensors: heatmap\.{key.split('__')[1]}\b")
       for key, value in [("heatmap__stride", 0), ("heatmap__stride", 3), ("heatmap__topk", 0), ("heatmap__topk", 10**6),
                          ("heatmap__sigma", -1)]},
    "model config with an unknown scheme": (model_case(crafted_model(_set(scheme="no-such-scheme"))), 2,
                                            r"crafted\.safetensors: scheme"),
    "model config scheme disagrees with the head": (model_case(crafted_model(_set(scheme="wflw"))), 2,
                                                    r"crafted\.safetensors: weight .* has shape"),
    "model weight of the wrong shape": (model_case(crafted_model(edit_state=_first_weight(lambda w: w[:1]))), 2,
                                        r"crafted\.safetensors: weight .* has shape"),
    "model weight holding NaN": (model_case(crafted_model(edit_state=_first_weight(lambda w: w * float("nan")))), 2,
                                 r"crafted\.safetensors: weight .* NaN"),
    "model weight missing": (model_case(crafted_model(edit_state=lambda s: s.pop(next(iter(s))))), 2,
                             r"crafted\.safetensors: weights do not fit"),
    "onnx metadata config not JSON": (onnx_case(lambda p: p.update(facealign_config="{not json")), 2,
                                      r"m\.onnx: its facealign_config metadata is not valid JSON"),
    "onnx metadata config out of range": (onnx_case(_onnx_config(crop_scale=0)), 2, r"m\.onnx: crop_scale "),
    "onnx metadata input size disagrees with the graph": (onnx_case(_onnx_config(input_size=96)), 2,
                                                         r"m\.onnx: graph input .* disagrees with its metadata"),
    "onnx metadata points disagree with the graph": (onnx_case(_onnx_config(scheme="wflw"), decode="none"), 2,
                                                    r"m\.onnx: graph outputs .* disagree with its metadata"),
    "onnx metadata head disagrees with the graph": (
        onnx_case(_onnx_config(head="heatmap"), decode="none"), 2, r"m\.onnx: graph outputs .* disagree"),
    "onnx metadata decode unknown": (onnx_case(lambda p: p.update(decode="sideways")), 2,
                                     r"m\.onnx: metadata decode must be"),

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
        2, rf"argument {flag}: must be (an integer|a number) (>= [0-9.]+|in \[[0-9.]+, [0-9.]+\]), got '{value}'")
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
    "video with no decodable frame": (
        lambda t, m: ["predict", str(broken_clip(t, 0)), "--model", str(m), "--detector", "full", "--out", str(t / "o")],
        2, r"c\.avi: no frame could be decoded .*nothing written"),
    "video with 3 of 30 frames decodable": (
        lambda t, m: ["predict", str(broken_clip(t, 3)), "--model", str(m), "--detector", "full", "--out", str(t / "o")],
        1, r"c\.avi: only 3 of the 30 frames its container states could be decoded"),
    # ---- outputs -----------------------------------------------------------------------------
    "two inputs with one relative name": (
        lambda t, m: (_folder_with(t / "x", "a.jpg"), _folder_with(t / "y", "a.jpg"),
                      ["predict", str(t / "x" / "a.jpg"), str(t / "y" / "a.jpg"), "--model", str(m), "--detector", "full",
                       "--out", str(t / "o")])[-1],
        2, r"x/a\.jpg and .*y/a\.jpg: both would write a\.json under --out"),
    "output folder holding the user's own a.json": (
        lambda t, m: (_folder_with(t / "in", "a.jpg"), (t / "in" / "a.json").write_text('{"mine": 1}'),
                      ["predict", str(t / "in"), "--model", str(m), "--detector", "full", "--out", str(t / "in")])[-1],
        2, r"in/a\.json: exists and was not written by facealign; pass --overwrite"),
    "output folder holding the user's landmarks.csv": (
        lambda t, m: (_folder_with(t / "o", "a.jpg"), (t / "o" / "landmarks.csv").write_text("file,x0\n"),
                      ["predict", str(t / "o" / "a.jpg"), "--model", str(m), "--detector", "full", "--out", str(t / "o"),
                       "--format", "csv"])[-1],
        2, r"o/landmarks\.csv: exists and was not written by facealign"),
    "csv output being written by another run": (
        lambda t, m: (_folder_with(t / "o", "a.jpg"), (t / "o" / ".landmarks.csv.lock").write_text(str(os.getppid())),
                      ["predict", str(t / "o" / "a.jpg"), "--model", str(m), "--detector", "full", "--out", str(t / "o"),
                       "--format", "csv"])[-1],
        2, r"landmarks\.csv: another facealign run \(PID \d+\) is writing it"),
}


def broken_clip(t, keep: int):
    """A 30-frame MJPG AVI whose frames from ``keep`` on are zeroed: the container still states 30."""
    w = cv2.VideoWriter(str(t / "c.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(30):
        w.write(np.full((48, 64, 3), i * 8, np.uint8))
    w.release()
    data = bytearray((t / "c.avi").read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    end = starts[-1] + 300
    data[starts[keep]:end] = bytes(end - starts[keep])
    (t / "c.avi").write_bytes(bytes(data))
    return t / "c.avi"


def _folder_with(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(ASTRONAUT.read_bytes())
    return folder


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




def test_outputs_never_collide_and_own_outputs_are_not_inputs(tmp_path, model_file):
    """a.jpg and a.png of one folder keep separate results; with --out the input folder, a re-run
    replaces its own JSON and overlays and does not read its overlays as photos."""
    d = _folder_with(tmp_path / "in", "a.jpg")
    cv2.imwrite(str(d / "a.png"), cv2.imread(str(d / "a.jpg")))
    for _ in range(2):
        rc, _ = run_cli("predict", d, "--model", model_file, "--detector", "full", "--out", d, "--overlay")
        assert rc == 0
    names = sorted(p.name for p in d.iterdir())
    assert names == ["a.jpg", "a.jpg.json", "a.jpg_overlay.png", "a.png", "a.png.json", "a.png_overlay.png"]
    assert json.loads((d / "a.png.json").read_text())["image"].endswith("a.png")


def test_overwrite_replaces_a_foreign_file(tmp_path, model_file):
    d = _folder_with(tmp_path / "in", "a.jpg")
    (d / "a.json").write_text('{"mine": 1}')
    rc, _ = run_cli("predict", d / "a.jpg", "--model", model_file, "--detector", "full", "--out", d, "--overwrite")
    assert rc == 0 and "faces" in json.loads((d / "a.json").read_text())


def test_pts_rerun_with_fewer_faces_leaves_no_stale_file(tmp_path, model_file):
    d = _folder_with(tmp_path / "in", "a.jpg")
    boxes = tmp_path / "b.json"
    boxes.write_text(json.dumps({"a.jpg": [[100, 50, 300, 250], [10, 10, 90, 90]]}))
    args = ["predict", d / "a.jpg", "--model", model_file, "--boxes", boxes, "--out", tmp_path / "o", "--format", "pts"]
    assert run_cli(*args)[0] == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a_0.pts", "a_1.pts"]
    rc, err = run_cli(*args)
    assert rc == 2 and "a_0.pts: exists and was not written by facealign (and 1 more)" in err
    boxes.write_text(json.dumps({"a.jpg": [[100, 50, 300, 250]]}))
    assert run_cli(*args, "--overwrite")[0] == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a_0.pts"]


def test_csv_run_without_faces_replaces_the_old_file_and_takes_a_stale_lock(tmp_path, model_file):
    d = _folder_with(tmp_path / "in", "a.jpg")
    out = tmp_path / "o"
    out.mkdir()
    (out / "landmarks.csv").write_text("file,x0,y0\nold.jpg,1,2\n")
    (out / ".landmarks.csv.lock").write_text(str(dead_pid()))  # left by a killed run
    boxes = tmp_path / "b.json"
    boxes.write_text(json.dumps({"a.jpg": []}))
    rc, _ = run_cli("predict", d / "a.jpg", "--model", model_file, "--boxes", boxes, "--out", out, "--format", "csv",
                 "--overwrite")
    assert rc == 0
    predict_header = HEADER.replace("file,", "file,face,box_x1,box_y1,box_x2,box_y2,detection_score,", 1)
    assert (out / "landmarks.csv").read_text().splitlines() == [predict_header]
    assert not (out / ".landmarks.csv.lock").exists()


def test_skip_existing_makes_the_missing_overlays(tmp_path, model_file):
    d = _folder_with(tmp_path / "in", "a.jpg", "b.jpg")
    out = tmp_path / "o"
    args = ["predict", d, "--model", model_file, "--detector", "full", "--out", out, "--overlay"]
    assert run_cli(*args)[0] == 0
    (out / "b_overlay.png").unlink()  # as a run killed between b's overlay and JSON would leave it
    rc, err = run_cli(*args, "--skip-existing")
    assert rc == 0 and (out / "b_overlay.png").is_file()
    assert re.search(r"images processed\s*│?\s*1", err) and re.search(r"skipped \(output exists\)\s*│?\s*1", err)


def test_video_rerun_on_a_clip_that_broke_keeps_the_old_outputs(tmp_path, model_file):
    out = tmp_path / "o"
    clip = broken_clip(tmp_path, 29)  # 29 good frames, then one zeroed
    args = ["predict", clip, "--model", model_file, "--detector", "full", "--out", out, "--overlay"]
    assert run_cli(*args)[0] == 0
    before = (out / "c.jsonl").read_text()
    assert len(before.splitlines()) == 29
    stale = out / f".c_overlay.part{dead_pid()}.mp4"  # a SIGKILLed run's temporary file
    stale.write_bytes(b"x")
    broken_clip(tmp_path, 0)
    rc, err = run_cli(*args)
    assert rc == 2 and "no frame could be decoded" in err
    assert (out / "c.jsonl").read_text() == before and (out / "c_overlay.mp4").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["c.jsonl", "c_overlay.mp4"]


def test_tables_keep_their_width_and_progress_bars_fit_the_terminal(monkeypatch):
    """A table is never folded to a narrow terminal (its lines are grepped); a progress bar is redrawn
    in place, so it must fit: one wider than the terminal wraps, and each redraw leaves a row behind."""
    from facealign.utils.progress import TABLE_WIDTH, console, progress_console

    monkeypatch.setenv("COLUMNS", "40")
    assert progress_console().width == 40
    assert console().width == TABLE_WIDTH
