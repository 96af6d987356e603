import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import ASTRONAUT, YTF

from facealign.cli.main import main
from facealign.detect import Detections, FullImageDetector, create_detector, dlib_available
from facealign.detect.detectors import read_boxes_file
from facealign.errors import DataError, FaceAlignError
from facealign.predict import FaceAligner, FaceResult


@pytest.fixture(scope="module")
def aligner(small_model):
    return FaceAligner(small_model, detector="cascade")


def check_result(r: FaceResult, k=68):
    n = len(r)
    assert r.boxes.shape == (n, 4) and r.landmarks.shape == (n, k, 2) and r.scores.shape == (n, k)
    assert r.detection_scores.shape == (n,) and r.boxes.dtype == np.float32 and r.landmarks.dtype == np.float32


def test_input_kinds_give_the_same_result(aligner):
    from PIL import Image

    rgb = cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2RGB)
    by_path = aligner.predict(ASTRONAUT)
    check_result(by_path)
    assert len(by_path) >= 1 and by_path.source == str(ASTRONAUT) and by_path.image_size == (512, 512)
    for other in (aligner.predict(rgb), aligner.predict(Image.fromarray(rgb)),
                  aligner.predict(torch.from_numpy(rgb).permute(2, 0, 1)),
                  aligner.predict(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)):
        np.testing.assert_allclose(other.landmarks, by_path.landmarks, atol=0.5)
    batch = aligner.predict(torch.from_numpy(np.stack([rgb, rgb])).permute(0, 3, 1, 2))
    assert isinstance(batch, list) and len(batch) == 2
    lst = aligner.predict([ASTRONAUT, rgb])
    np.testing.assert_allclose(lst[1].landmarks, by_path.landmarks, atol=0.5)


def test_grey_rgba_16bit_inputs(aligner):
    rgb = cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2RGB)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    for img in (grey, rgba, rgb.astype(np.uint16) * 257):
        check_result(aligner.predict(img))
    with pytest.raises(DataError, match="image array must be"):
        aligner.predict(np.zeros((4, 4, 7), np.uint8))


def test_no_face_is_an_empty_result_not_an_error(aligner):
    r = aligner.predict(np.full((200, 300, 3), 128, np.uint8))
    check_result(r)
    assert len(r) == 0


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_user_boxes_and_all_faces_in_one_pass(small_model, backend):
    al = FaceAligner(small_model, detector="cascade", refine=0, backend=backend)
    calls = []
    run = al.runner.predict_crops
    al.runner.predict_crops = lambda crops, flip=None: (calls.append(len(crops)), run(crops, flip))[1]
    imgs = [cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2RGB)] * 3
    boxes = [np.array([[180.0, 80, 270, 175]]), np.array([[180.0, 80, 270, 175], [10, 10, 60, 60]]), np.zeros((0, 4))]
    res = al.predict(imgs, boxes=boxes)
    assert [len(r) for r in res] == [1, 2, 0] and calls == [3]
    np.testing.assert_array_equal(res[1].boxes[0], [180, 80, 270, 175])
    with pytest.raises(FaceAlignError, match="zero or negative size"):
        al.predict(imgs[0], boxes=np.array([[10.0, 10, 5, 20]]))


def test_threads_give_serial_results(aligner):
    imgs = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in sorted((YTF / "val" / "images").glob("*.jpg"))[:6]]
    serial = [aligner.predict(im).landmarks for im in imgs]
    out = [None] * len(imgs)

    def work(i):
        out[i] = aligner.predict(imgs[i]).landmarks

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(imgs))]
    [t.start() for t in ts]
    [t.join() for t in ts]
    for a, b in zip(serial, out):
        np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("name", ["cascade"] + (["dlib"] if dlib_available() else []))
def test_detectors_find_real_faces(name):
    det = create_detector(name)
    from facealign.data import load_dataset

    val = load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")
    hits = 0
    for s in val.samples[:20]:
        d = det.detect(s.load_image())
        assert isinstance(d, Detections) and d.boxes.shape[1] == 4
        c = s.landmarks.mean(axis=0)
        hits += any(b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3] for b in d.boxes)
    assert hits >= 17


@pytest.mark.skipif(not dlib_available(), reason="needs dlib-bin")
def test_dlib_searches_coarse_to_fine(monkeypatch):
    from facealign.data import load_dataset
    from facealign.detect import DlibHOGDetector

    val = load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")
    side = lambda s: float(np.ptp(s.landmarks, axis=0).max())  # noqa: E731
    big = next(s for s in val.samples if side(s) > 110 and max(s.load_image().shape[:2]) < 400)
    small = next(s for s in val.samples if side(s) < 45)
    passes = []
    det = DlibHOGDetector()
    real = det._run
    monkeypatch.setattr(det, "_run", lambda im, up: passes.append(up) or real(im, up))
    assert len(det.detect(big.load_image())) >= 1 and passes == [0]
    passes.clear()
    d = det.detect(small.load_image())
    assert passes == [0, 1]  # the plain pass cannot see a face under dlib's 80 px window
    c = small.landmarks.mean(axis=0)
    assert any(b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3] for b in d.boxes)
    always = DlibHOGDetector(upsample=1)
    passes.clear()
    monkeypatch.setattr(always, "_run", lambda im, up: passes.append(up) or real(im, up))
    always.detect(big.load_image())
    assert passes == [1]
    with pytest.raises(ValueError, match="upsample"):
        DlibHOGDetector(upsample=-1)


def test_cascade_searches_coarse_to_fine(monkeypatch):
    from facealign.data import load_dataset
    from facealign.detect import CascadeDetector

    val = load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")
    side = lambda s: float(np.ptp(s.landmarks, axis=0).max())  # noqa: E731
    big = next(s for s in val.samples if side(s) > 110 and max(s.load_image().shape[:2]) < 400)
    def found(det, s):
        c = s.landmarks.mean(axis=0)
        return any(b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3] for b in det.detect(s.load_image()).boxes)

    small = next(s for s in val.samples if side(s) < 45 and found(CascadeDetector(coarse_to_fine=False), s))
    for det, first in ((CascadeDetector(), 80), (CascadeDetector(coarse_to_fine=False), 20)):
        sizes = []
        real = det._run
        monkeypatch.setattr(det, "_run", lambda g, m, real=real, sizes=sizes: sizes.append(m) or real(g, m))
        assert len(det.detect(big.load_image())) >= 1 and sizes == [first]
        sizes.clear()
        assert found(det, small)
        assert sizes == ([80, 20] if first == 80 else [20])


def test_full_detector_and_unknown():
    d = FullImageDetector().detect(np.zeros((10, 20, 3), np.uint8))
    np.testing.assert_array_equal(d.boxes, [[0, 0, 19, 9]])
    with pytest.raises(FaceAlignError, match="unknown detector"):
        create_detector("yolo")


def test_boxes_files(tmp_path):
    j = tmp_path / "b.json"
    j.write_text(json.dumps({"a.jpg": [[1, 2, 30, 40]], "b.jpg": [5, 5, 9, 9]}))
    t = read_boxes_file(j)
    assert t["a.jpg"].shape == (1, 4) and t["b.jpg"].tolist() == [[5, 5, 9, 9]]
    c = tmp_path / "b.csv"
    c.write_text("file,x1,y1,x2,y2\na.jpg,1,2,3,4\na.jpg,5,6,7,8\n")
    assert read_boxes_file(c)["a.jpg"].shape == (2, 4)
    c.write_text("file,x1,y1,x2,y2\na.jpg,5,6,5,8\n")
    with pytest.raises(DataError, match=r"b\.csv: line 2: box .* zero or negative"):
        read_boxes_file(c)
    c.write_text("name,a,b\n")
    with pytest.raises(DataError, match="header must be"):
        read_boxes_file(c)


def test_cli_predict_formats(tmp_path, small_model, capsys):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for f in sorted((YTF / "val" / "images").glob("*.jpg"))[:2]:
        (src / f.name).write_bytes(f.read_bytes())
    (src / "sub" / "astro.jpg").write_bytes(ASTRONAUT.read_bytes())
    out = tmp_path / "out"
    m = str(small_model)
    assert main(["predict", str(src), "--model", m, "--detector", "cascade", "--out", str(out), "--overlay",
                 "--recursive"]) == 0
    js = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert len(js) == 3 and "sub/astro.json" in js
    rec = json.loads((out / "sub" / "astro.json").read_text())
    assert rec["width"] == 512 and rec["faces"] and len(rec["faces"][0]["landmarks"]) == 68
    assert (out / "sub" / "astro_overlay.png").read_bytes()[:4] == b"\x89PNG"
    assert "faces found" in capsys.readouterr().out
    # csv: one file, readable by the evaluation reader
    assert main(["predict", str(src), "--model", m, "--detector", "full", "--out", str(tmp_path / "c"), "--format", "csv"]) == 0
    from facealign.data import read_landmark_csv

    rows = read_landmark_csv(tmp_path / "c" / "landmarks.csv")
    assert len(rows) == 2 and rows[0][2].shape == (68, 2)
    assert main(["predict", str(ASTRONAUT), "--model", m, "--detector", "full", "--out", str(tmp_path / "p"), "--format", "pts"]) == 0
    from facealign.data import read_pts

    assert read_pts(tmp_path / "p" / "astronaut_0.pts").shape == (68, 2)
    # stdout JSON lines without --out
    capsys.readouterr()
    assert main(["predict", str(ASTRONAUT), "--model", m, "--detector", "full"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[0]
    assert json.loads(line)["faces"][0]["box"] == [0, 0, 511, 511]


def test_cli_predict_boxes_skip_existing_and_errors(tmp_path, small_model, capsys):
    m = str(small_model)
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"astronaut.jpg": [[180, 80, 270, 175]]}))
    out = tmp_path / "o"
    assert main(["predict", str(ASTRONAUT), "--model", m, "--boxes", str(boxes), "--out", str(out)]) == 0
    first = (out / "astronaut.json").read_text()
    assert json.loads(first)["faces"][0]["box"] == [180, 80, 270, 175]
    assert main(["predict", str(ASTRONAUT), "--model", m, "--boxes", str(boxes), "--out", str(out), "--skip-existing"]) == 0
    assert "skipped" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(tmp_path / "empty"), "--model", m]) == 2
    assert "folder has no images" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_text("not an image")
    (bad / "y.jpg").write_bytes(ASTRONAUT.read_bytes())
    assert main(["predict", str(bad), "--model", m, "--detector", "full", "--out", str(tmp_path / "ob")]) == 1
    assert "x.jpg" in capsys.readouterr().err and (tmp_path / "ob" / "y.json").is_file()


def make_clip(path: Path, n: int = 12) -> Path:
    """A short clip of consecutive YTF-68 frames of one person."""
    frames = sorted((YTF / "val" / "images").glob("Ahmad_Masood_0*.jpg"))[:3] * (n // 3)
    imgs = [cv2.imread(str(f)) for f in frames]
    h, w = imgs[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (w, h))
    for im in imgs:
        vw.write(cv2.resize(im, (w, h)))
    vw.release()
    return path


def test_video(tmp_path, small_model, capsys):
    clip = make_clip(tmp_path / "clip.mp4")
    out = tmp_path / "vout"
    assert main(["predict", str(clip), "--model", str(small_model), "--detector", "cascade", "--out", str(out),
                 "--overlay", "--smooth", "--detect-every", "4"]) == 0
    lines = [json.loads(x) for x in (out / "clip.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in lines] == list(range(12))
    assert all(len(r["faces"]) >= 1 for r in lines)
    cap = cv2.VideoCapture(str(out / "clip_overlay.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    err = capsys.readouterr().err
    assert "detector ran 3 times" in err
    assert main(["predict", str(tmp_path / "nope.mp4"), "--model", str(small_model), "--out", str(out)]) == 2


def test_video_that_cannot_be_opened(tmp_path, small_model, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    assert main(["predict", str(bad), "--model", str(small_model), "--out", str(tmp_path / "o")]) == 2
    assert "cannot open video" in capsys.readouterr().err


def test_a_file_that_is_not_a_video_gets_one_line_and_no_ffmpeg_log(tmp_path, small_model):
    """In a fresh process (OpenCV reads FFmpeg's log level when it first opens a video): FFmpeg
    printed its own "moov atom not found" line to stderr before facealign's one line."""
    import os
    import subprocess
    import sys

    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    r = subprocess.run([sys.executable, "-m", "facealign", "predict", str(fake), "--model", str(small_model),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"facealign: error: {fake}: cannot open video (missing file, unsupported "
                                             "codec or no such camera)"], r.stderr


def test_one_euro_reduces_jitter():
    from facealign.predict.smoothing import OneEuroFilter

    rng = np.random.default_rng(0)
    still = 50 + rng.normal(0, 1.0, (200, 2))
    f = OneEuroFilter(25)
    out = np.array([f(x) for x in still])
    raw_j = np.abs(np.diff(still, axis=0)).mean()
    sm_j = np.abs(np.diff(out, axis=0)).mean()
    assert sm_j < raw_j / 3
    f.reset()
    step = np.r_[np.zeros(50), np.full(50, 100.0)]
    y = np.array([f(np.array([v])) for v in step])[:, 0]
    assert y[-1] == pytest.approx(100, abs=1)


def test_auto_backend_is_onnx_when_installed(small_model):
    from facealign.predict.runners import onnxruntime_available

    al = FaceAligner(small_model, detector="full")
    assert al.backend == ("onnx" if onnxruntime_available() else "torch")
    with pytest.raises(FaceAlignError, match="unknown backend"):
        FaceAligner(small_model, detector="full", backend="tensorrt")


def test_cli_overlay_decodes_each_image_once(tmp_path, small_model, monkeypatch):
    import facealign.data.images as images
    import facealign.predict.images as predict_images

    calls = []
    real = images.read_image
    for module in (images, predict_images):  # every name the pipeline could decode through
        monkeypatch.setattr(module, "read_image", lambda p: calls.append(Path(p).name) or real(p))
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (src / name).write_bytes(ASTRONAUT.read_bytes())
    out = tmp_path / "out"
    assert main(["predict", str(src), "--model", str(small_model), "--detector", "full", "--out", str(out), "--overlay"]) == 0
    assert sorted(calls) == ["a.jpg", "b.jpg"]
    assert (out / "a_overlay.png").is_file() and json.loads((out / "b.json").read_text())["image"].endswith("b.jpg")


@pytest.mark.parametrize("boxes,message", [
    ([[0, 0, 10]], r"expected \(N, 4\) x1, y1, x2, y2, got shape \(1, 3\)"),
    ([[0, 0, "a", 4]], r"not an \(N, 4\) array of numbers"),
    ([[10, 10, 5, 20]], "has zero or negative size"),
    ([[0, 0, float("nan"), 4]], "not finite numbers"),
])
def test_bad_user_boxes_are_one_clear_error(small_model, boxes, message):
    from facealign.errors import FaceAlignError
    from facealign.predict import FaceAligner

    al = FaceAligner(small_model, detector="full", backend="torch")
    with pytest.raises(FaceAlignError, match=message):
        al.predict(np.zeros((64, 64, 3), np.uint8), boxes=boxes)


def test_float_image_outside_0_1_is_refused_not_whitened():
    from facealign.errors import ImageError
    from facealign.predict.images import to_rgb_array

    with pytest.raises(ImageError, match=r"float image values must be in \[0, 1\], found 0 to 255"):
        to_rgb_array(np.linspace(0, 255, 300).reshape(10, 10, 3))
    assert to_rgb_array(np.full((4, 4, 3), 0.5)).max() == 128


def test_pil_image_follows_its_exif_orientation(tmp_path):
    """A JPEG stored sideways with EXIF orientation 6 gives the same pixels as a path and as PIL."""
    from PIL import Image

    from facealign.predict.images import to_rgb_array

    rgb = np.zeros((40, 80, 3), np.uint8)
    rgb[:, :20] = 255  # a white band on the left of the upright image
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(rgb, 1)))  # stored turned; EXIF says turn it back
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    stored.save(path, exif=exif, quality=95)
    from_path = to_rgb_array(path)
    from_pil = to_rgb_array(Image.open(path))
    assert from_path.shape == from_pil.shape == (40, 80, 3)
    assert np.abs(from_path.astype(int) - from_pil.astype(int)).max() <= 2


def test_a_refine_pass_reruns_only_the_faces_whose_box_moved():
    """refine_tolerance: the refine pass re-runs a face only when the box of its landmarks moved
    from the box it was cut from by more than that fraction of its side; 0 re-runs every face,
    1 none (then the result is the first pass's)."""
    from conftest import YTF
    from PIL import Image

    from facealign.errors import FaceAlignError
    from facealign.predict import FaceAligner
    from facealign.predict.aligner import box_moved

    box = np.array([100.0, 100.0, 200.0, 200.0])
    assert not box_moved(box, box + 3.0, 0.05)  # the centre moved 4.2 % of the side
    assert box_moved(box, box + 4.0, 0.05)  # 5.7 %
    assert box_moved(box, np.array([90.0, 90.0, 210.0, 210.0]), 0.05)  # same centre, 20 % larger
    image = np.asarray(Image.open(sorted((YTF / "val" / "images").glob("*.jpg"))[0]).convert("RGB"))
    first = FaceAligner(refine=0).predict(image).landmarks
    none = FaceAligner(refine=1, refine_tolerance=1.0).predict(image).landmarks
    np.testing.assert_array_equal(none, first)
    every = FaceAligner(refine=1, refine_tolerance=0.0)
    det, boxes, roll = every.find_faces(image)
    p0, _ = every._run([image], [(0, j) for j in range(len(boxes))], list(boxes), roll)
    again, new_roll = every.reframe(p0)
    p1, _ = every._run([image], [(0, j) for j in range(len(boxes))], again, new_roll)
    np.testing.assert_allclose(every.predict(image).landmarks, p1, atol=1e-4)
    with pytest.raises(FaceAlignError, match="refine_tolerance must be a fraction"):
        FaceAligner(refine_tolerance=2.0)
    # by default only behind a detector whose keypoints frame faces; box-only detectors re-run every face
    assert FaceAligner(detector="yunet").refine_tolerance == 0.05
    assert FaceAligner(detector="cascade").refine_tolerance == 0.0


def test_csv_output_tells_the_faces_of_one_image_apart(tmp_path):
    """--format csv: each row says which face of its image it is, its box and the detector's
    confidence, and the evaluation reader still reads the file."""
    import csv

    from conftest import YTF
    from PIL import Image

    from facealign.cli.main import main
    from facealign.data import read_landmark_csv
    from facealign.data.readers.tabular import FACE_COLUMNS
    from facealign.predict import FaceAligner

    frames = sorted((YTF / "val" / "images").glob("*.jpg"))[:2]
    pair = np.concatenate([np.asarray(Image.open(f).convert("RGB").resize((240, 240))) for f in frames], axis=1)
    (tmp_path / "src").mkdir()
    Image.fromarray(pair).save(tmp_path / "src" / "two.png")
    assert main(["predict", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--format", "csv"]) == 0
    with open(tmp_path / "out" / "landmarks.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    want = FaceAligner().predict(pair)
    assert list(rows[0])[:7] == ["file", *FACE_COLUMNS] and len(rows) == len(want) == 2
    assert [r["face"] for r in rows] == ["0", "1"] and {r["file"] for r in rows} == {"two.png"}
    for r, box, score in zip(rows, want.boxes, want.detection_scores):
        np.testing.assert_allclose([float(r[c]) for c in FACE_COLUMNS[1:5]], box, atol=0.01)
        assert float(r["detection_score"]) == pytest.approx(float(score), abs=1e-4)
    parsed = read_landmark_csv(tmp_path / "out" / "landmarks.csv")
    np.testing.assert_allclose(np.stack([p for _, _, p in parsed]), want.landmarks, atol=1e-3)


def test_precision_auto_runs_the_bundled_int8_file_only_on_cpus_with_int8_dot_products(monkeypatch):
    """precision="auto" (the default): the default model's int8 ONNX file where the CPU has AVX-512
    VNNI, fp32 elsewhere and for models without an int8 file or on the torch backend; "int8" and
    "fp32" choose; int8 is refused where there is no int8 file or backend. The int8 file keeps its
    first and last convolution float."""
    import onnx
    from conftest import YTF
    from PIL import Image

    import facealign.utils.cpu as cpu
    from facealign.errors import FaceAlignError
    from facealign.export.metadata import read_metadata
    from facealign.predict import FaceAligner
    from facealign.zoo import WEIGHTS, resolve, resolve_onnx, sha256_file

    int8_file = resolve_onnx("default", int8=True)
    assert int8_file is not None and int8_file.name.endswith(".int8.onnx") and int8_file != resolve_onnx("default")
    assert read_metadata(onnx.load(str(int8_file)))["source_sha256"] == sha256_file(resolve("default"))
    convs = [n for n in onnx.load(str(int8_file)).graph.node if n.op_type == "Conv"]
    int8_weights = [n.input[1].endswith("_DequantizeLinear_Output") for n in convs]
    assert not int8_weights[0] and not int8_weights[-1] and all(int8_weights[1:-1])
    for has_vnni, want in ((True, "int8"), (False, "fp32")):
        monkeypatch.setattr(cpu, "fast_int8_cpu", lambda v=has_vnni: v)
        for al in (FaceAligner(), FaceAligner(precision="auto")):
            assert al.precision == want and (al.runner.path == int8_file) == (want == "int8")
        assert FaceAligner(backend="torch").precision == "fp32"
        assert FaceAligner("ytf68-mnv2x050-96").precision == "fp32"
    image = np.asarray(Image.open(sorted((YTF / "val" / "images").glob("*.jpg"))[0]).convert("RGB"))
    fp32 = FaceAligner(precision="fp32").predict(image).landmarks
    int8 = FaceAligner(precision="int8").predict(image).landmarks
    assert fp32.shape == int8.shape and 0 < np.abs(fp32 - int8).mean() < 1.0  # another file, nearly the same points
    with pytest.raises(FaceAlignError, match="ships no int8 file"):
        FaceAligner("ytf68-mnv2x050-96", precision="int8")
    with pytest.raises(FaceAlignError, match="precision int8 runs the model's int8 ONNX file in ONNX Runtime, not with "
                                             "backend 'torch'"):
        FaceAligner(precision="int8", backend="torch")
    with pytest.raises(FaceAlignError, match="unknown precision"):
        FaceAligner(precision="half")
    assert FaceAligner(str(WEIGHTS / "ytf68-mnv2-128-mirrored.onnx"), precision="auto").precision == "fp32"
