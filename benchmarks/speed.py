"""Landmark-stage and end-to-end speed: facealign (PyTorch eager, channels-last, ONNX Runtime fp32
and int8) vs dlib's 68-point shape predictor, on the same YTF-68 val faces and the same crops;
then the public API against dlib's pipeline (benchmarks/public_speed.py, with its lever rows):
``FaceAligner().predict`` per frame, 16 frames a call and on a group photo, and
``facealign predict FOLDER``.

Usage:
    python benchmarks/speed.py [--model default] [--faces 200] [--threads 2] [--folder 1000] [--no-e2e]

Needs the optional extras: pip install 'facealign[onnx,dlib]' face-recognition-models
(dlib-bin ships the HOG detector; face-recognition-models ships shape_predictor_68_face_landmarks.dat).
Prints Markdown tables; every ratio is against dlib measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("FACEALIGN_SHARED", "../shared")) / "data"


def timeit(fn, reps: int, warm: int = 3) -> float:
    """Median seconds per call over ``reps`` calls."""
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def dlib_predictor_path() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs face-recognition-models (pip install face-recognition-models)")
    return Path(spec.submodule_search_locations[0]) / "models" / "shape_predictor_68_face_landmarks.dat"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--faces", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--also", nargs="*", default=[], metavar="MODEL",
                    help="more models timed with ONNX Runtime in the same run (e.g. the fast tier)")
    ap.add_argument("--no-e2e", action="store_true", help="landmark stage only (skip the end-to-end tables)")
    ap.add_argument("--folder", type=int, default=1000, help="frames in the folder run of the end-to-end tables (0: skip)")
    args = ap.parse_args()

    import dlib
    import torch

    from facealign.data import load_dataset
    from facealign.data.crop import crop_matrix, warp_crop
    from facealign.export.onnx import export_onnx
    from facealign.metrics.evaluation import evaluate_landmarks
    from facealign.predict.on_dataset import predict_dataset_numpy
    from facealign.predict.runners import OnnxRunner
    from facealign.zoo import load_model, resolve, resolve_onnx, sha256_file

    sys_load = os.getloadavg()[0]
    torch.set_num_threads(args.threads)
    val = load_dataset(f"csv:{SHARED / 'ytf68/val/landmarks.csv'}")
    samples = val.samples[: args.faces]
    images = [s.load_image() for s in samples]
    model = load_model(args.model).eval()
    cfg = model.config
    s = cfg.input_size
    mats = [crop_matrix(x.landmark_box(), s, cfg.crop_scale) for x in samples]
    crops = np.stack([warp_crop(im, m, s) for im, m in zip(images, mats)])
    onnx_path = Path(tempfile.mkdtemp()) / "m.onnx"
    export_onnx(model, onnx_path, source_sha256=sha256_file(resolve(args.model)))
    ort_model = OnnxRunner(onnx_path, threads=args.threads)
    # int8: the model's bundled file (what precision="auto" runs), else one made here, calibrated on
    # YTF-68 *train* faces (never the faces it is timed or scored on)
    int8_path = resolve_onnx(args.model, int8=True)
    if int8_path is None:
        from facealign.export.quantize import calibration_crops, export_onnx_int8

        train = load_dataset(f"csv:{SHARED / 'ytf68/train/landmarks.csv'}")
        int8_path = export_onnx_int8(model, onnx_path.with_name("int8.onnx"), calibration_crops(train, cfg, 512))
    int8_model = OnnxRunner(int8_path, threads=args.threads)

    from benchmarks_gflops import gflops  # noqa: E402  (sibling helper)

    gf = gflops(model, s)
    x_nchw = torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()
    x_cl = x_nchw.contiguous(memory_format=torch.channels_last)
    model_cl = load_model(args.model).eval().to(memory_format=torch.channels_last)
    n = len(crops)
    b = args.batch

    def torch_b1(mod, x):
        i = [0]

        def f():
            mod.predict(x[i[0] % n:i[0] % n + 1])
            i[0] += 1
        return f

    def ort_b1(runner):
        i = [0]

        def f():
            runner.predict_crops(crops[i[0] % n:i[0] % n + 1])
            i[0] += 1
        return f

    predictor = dlib.shape_predictor(str(dlib_predictor_path()))
    rects = [dlib.rectangle(*[int(round(v)) for v in x.landmark_box()]) for x in samples]

    def dlib_b1():
        i = [0]

        def f():
            k = i[0] % n
            predictor(images[k], rects[k])
            i[0] += 1
        return f

    with torch.inference_mode():
        rows = {
            "dlib shape predictor (68)": (timeit(dlib_b1(), 200), None),
            "facealign PyTorch eager (NCHW)": (timeit(torch_b1(model, x_nchw), 100),
                                               timeit(lambda: model.predict(x_nchw[:b]), 10) / b),
            "facealign PyTorch channels-last": (timeit(torch_b1(model_cl, x_cl), 100),
                                                timeit(lambda: model_cl.predict(x_cl[:b]), 10) / b),
            "facealign ONNX Runtime": (timeit(ort_b1(ort_model), 200),
                                       timeit(lambda: ort_model.predict_crops(crops[:b]), 20) / b),
            "facealign ONNX Runtime int8": (timeit(ort_b1(int8_model), 200),
                                            timeit(lambda: int8_model.predict_crops(crops[:b]), 20) / b),
        }
        extra_nme = {}
        for other in args.also:
            om = load_model(other).eval()
            op = onnx_path.with_name(f"also{len(extra_nme)}.onnx")
            export_onnx(om, op, source_sha256=sha256_file(resolve(other)))
            runner = OnnxRunner(op, threads=args.threads)
            oc = om.config
            ocrops = np.stack([warp_crop(im, crop_matrix(x.landmark_box(), oc.input_size, oc.crop_scale), oc.input_size)
                               for im, x in zip(images, samples)])

            def other_b1(runner=runner, ocrops=ocrops):
                i = [0]

                def f():
                    runner.predict_crops(ocrops[i[0] % n:i[0] % n + 1])
                    i[0] += 1
                return f

            rows[f"{other} ONNX Runtime ({oc.backbone}, {oc.input_size} px, {gflops(om, oc.input_size):.3f} GFLOPs)"] = (
                timeit(other_b1(), 200), timeit(lambda runner=runner, ocrops=ocrops: runner.predict_crops(ocrops[:b]), 20) / b)
            extra_nme[other] = evaluate_landmarks(val, predict_dataset_numpy(runner, val)[0]).overall["nme"]
    dlib_ms = rows["dlib shape predictor (68)"][0] * 1000
    print(f"\nLandmark stage on {n} YTF-68 val faces, same crops ({s} px), {args.threads} threads, "
          f"load average at start {sys_load:.2f}, model {args.model} ({gf:.3f} GFLOPs/face)\n")
    print("| engine | batch-1 ms/face | vs dlib | batch-32 faces/s | achieved GFLOP/s (batch 32) |")
    print("|---|---|---|---|---|")
    for name, (t1, tb) in rows.items():
        fps = f"{1 / tb:.0f}" if tb else "n/a"
        gfs = f"{gf / tb:.1f}" if tb else "n/a"
        print(f"| {name} | {t1 * 1000:.2f} | {dlib_ms / (t1 * 1000):.2f}x | {fps} | {gfs} |")

    if extra_nme:
        print("\nYTF-68 val NME (landmark boxes): " + ", ".join(f"{k} {v:.2f} %" for k, v in extra_nme.items()))
    raw = int8_model.session.run(None, {"image": np.ascontiguousarray(crops[:1].transpose(0, 3, 1, 2))})[0]
    decode_ms = timeit(lambda: int8_model.decode_output(raw), 200) * 1000
    print(f"\nOf the int8 row: top-k decoding in numpy (the int8 file outputs raw heatmaps) {decode_ms:.2f} ms/face")
    nme_rows = {name: evaluate_landmarks(val, predict_dataset_numpy(runner, val)[0]).overall["nme"]
                for name, runner in (("ONNX Runtime", ort_model), ("ONNX Runtime int8", int8_model))}
    print(f"YTF-68 val NME ({len(val)} faces, landmark boxes): " + ", ".join(f"{k} {v:.3f} %" for k, v in nme_rows.items()))
    if args.no_e2e:
        return
    # end to end through the public API: FaceAligner().predict and `facealign predict FOLDER`
    from public_speed import run

    run(args.faces, args.folder, levers=True)


if __name__ == "__main__":
    main()
