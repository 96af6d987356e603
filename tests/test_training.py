import csv
import math
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO, YTF, tiny_config

from facealign.cli.main import main
from facealign.errors import ConfigError
from facealign.train import load_train_config, train
from facealign.train.config import config_from_dict
from facealign.zoo import load_model


def write_cfg(tmp_path, cfg, name="cfg.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg))
    return p


def weights(path):
    return load_model(path).state_dict()


def test_train_writes_logs_checkpoints_and_learns(tmp_path):
    cfg = config_from_dict(tiny_config(tmp_path, epochs=4, **{"optim.lr": 0.003}))
    res = train(cfg, verbose=False)
    out = tmp_path / "run"
    for f in ("config.yaml", "log.csv", "last.ckpt", "best.safetensors", "final.safetensors"):
        assert (out / f).is_file(), f
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert {"train_loss", "val_nme", "val_fr", "val_auc", "variance", "img_per_s"} <= set(rows[0])
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert res.best_epoch >= 0 and res.best_nme == pytest.approx(min(float(r["val_nme"]) for r in rows), rel=1e-5)
    ck = torch.load(out / "last.ckpt", weights_only=True)
    assert ck["epoch"] == 3
    with pytest.raises(Exception, match="use --resume"):
        train(cfg, verbose=False)


def test_same_seed_same_weights(tmp_path):
    a = train(config_from_dict(tiny_config(tmp_path, "a", epochs=1)), verbose=False)
    b = train(config_from_dict(tiny_config(tmp_path, "b", epochs=1)), verbose=False)
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path):
    """Kill -9 a training process during its third epoch, resume, compare with a clean run."""
    full = train(config_from_dict(tiny_config(tmp_path, "full", epochs=4, batch_size=4)), verbose=False)
    cfg = tiny_config(tmp_path, "killed", epochs=4, batch_size=4)
    path = write_cfg(tmp_path, cfg)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "facealign", "train", str(path), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = tmp_path / "killed" / "log.csv"
    deadline = time.time() + 240
    while time.time() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= 3:  # header + 2 epochs done
            break
        if proc.poll() is not None:
            pytest.fail(f"training exited early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.02)
    time.sleep(0.3)  # into the third epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ck = torch.load(tmp_path / "killed" / "last.ckpt", weights_only=True)  # complete, loadable
    assert ck["epoch"] in (1, 2)
    # a checkpoint write the kill cut short leaves its temporary file; the resumed run removes
    # the killed writer's (its PID is gone) and keeps a live writer's
    dead = tmp_path / "killed" / f".last.ckpt.{proc.pid}.x7k2.tmp"
    live = tmp_path / "killed" / f".log.csv.{os.getpid()}.q9z1.tmp"
    dead.write_bytes(b"half a checkpoint")
    live.write_bytes(b"")
    assert main(["train", str(path), "--resume", "--quiet"]) == 0
    assert not dead.exists() and live.exists()
    a, b = full.model.state_dict(), weights(tmp_path / "killed" / "final.safetensors")
    for k in b:
        assert torch.equal(a[k], b[k]), k


def _ddp_worker(rank, world, port, cfg_dict, out):
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank)})
    import torch.distributed as dist

    res = train(config_from_dict(cfg_dict), verbose=False)
    flat = torch.cat([p.detach().flatten() for p in res.model.parameters()])
    torch.save(flat, f"{out}/rank{rank}.pt")
    if dist.is_initialized():
        dist.destroy_process_group()


def test_ddp_two_processes_agree(tmp_path):
    """Two gloo processes end with the same weights, with data.train_boxes: rank 0 searches the
    images and broadcasts the boxes. (DDP without train_boxes: the Fabric two-process test below.)"""
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tiny_config(tmp_path, "ddp", epochs=2, batch_size=4,
                      **{"trainer.devices": 2, "trainer.accelerator": "cpu", "data.train_boxes": "cascade"})
    cfg["data"].pop("val")
    mp.spawn(_ddp_worker, args=(2, port, cfg, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert torch.equal(r0, r1)
    start = torch.cat([p.detach().flatten() for p in load_model(tmp_path / "ddp" / "final.safetensors").parameters()])
    assert torch.equal(start, r0)


def test_fabric_launches_two_processes_and_resumes_with_one(tmp_path):
    """`--devices 2` on the CPU: Fabric starts a second process (gloo DDP); one log and one checkpoint
    are written; the run then resumes in a single process (another world size) and finishes."""
    cfg = tiny_config(tmp_path, "two", epochs=3, batch_size=4)
    path = write_cfg(tmp_path, cfg)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "facealign", "train", str(path), "--quiet", "--accelerator", "cpu"]
    r = subprocess.run(cmd + ["--devices", "2", "--set", "epochs=2"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "two"
    ck = torch.load(out / "last.ckpt", weights_only=True)
    assert ck["epoch"] == 1 and ck["world_size"] == 2
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(x["epoch"]) for x in rows] == [0, 1]  # one writer: no duplicated rows
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".ckpt", ".safetensors", ".csv")) == [
        "best.safetensors", "final.safetensors", "last.ckpt", "log.csv"]
    r = subprocess.run(cmd + ["--devices", "1", "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(x["epoch"]) for x in rows] == [0, 1, 2]
    assert torch.load(out / "last.ckpt", weights_only=True)["world_size"] == 1


def test_bf16_mixed_trains_on_cpu(tmp_path):
    cfg = config_from_dict(tiny_config(tmp_path, "bf16", epochs=2, **{"trainer.precision": "bf16-mixed",
                                                                      "trainer.accelerator": "cpu"}))
    res = train(cfg, verbose=False)
    losses = [r["train_loss"] for r in res.history]
    assert all(math.isfinite(x) for x in losses) and all(math.isfinite(r["val_nme"]) for r in res.history)


@pytest.mark.parametrize("flags,message", [
    (["--accelerator", "cuda"], "no CUDA GPU is visible here"),
    (["--accelerator", "cpu", "--precision", "16-mixed"], "16-mixed needs a GPU"),
    (["--set", "trainer.devices=0"], "trainer.devices and trainer.num_nodes must be >= 1"),
    (["--set", "trainer.precision=fp8"], "trainer.precision 'fp8'"),
    # 24 faces, batch 8 per process: 3 processes fit, 4 do not (checked before any process starts)
    (["--accelerator", "cpu", "--devices", "4"], "24 training faces make no full batch: 4 process(es) x batch_size 8 need at least 32"),
])
def test_bad_trainer_settings_fail_fast(tmp_path, capsys, flags, message):
    if "cuda" in flags and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    path = write_cfg(tmp_path, tiny_config(tmp_path))
    assert main(["train", str(path), "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "last.ckpt").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_one_epoch_on_cuda_bf16(tmp_path):
    cfg = config_from_dict(tiny_config(tmp_path, "gpu", epochs=1, **{"trainer.accelerator": "cuda",
                                                                     "trainer.precision": "bf16-mixed"}))
    res = train(cfg, verbose=False)
    assert math.isfinite(res.history[0]["train_loss"]) and math.isfinite(res.history[0]["val_nme"])


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA GPUs")
def test_two_gpus(tmp_path):
    path = write_cfg(tmp_path, tiny_config(tmp_path, "gpu2", epochs=1, batch_size=4))
    r = subprocess.run([sys.executable, "-m", "facealign", "train", str(path), "--quiet", "--accelerator", "cuda",
                        "--devices", "2", "--precision", "bf16-mixed"], env={**os.environ, "PYTHONPATH": str(REPO)},
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert torch.load(tmp_path / "gpu2" / "last.ckpt", weights_only=True)["world_size"] == 2


def test_config_errors_name_the_key(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg["optim"]["learning_rate"] = 0.1
    with pytest.raises(ConfigError, match=r"cfg.yaml: unknown key 'optim.learning_rate'"):
        load_train_config(write_cfg(tmp_path, cfg))
    cfg = tiny_config(tmp_path, epochs="ten")
    with pytest.raises(ConfigError, match="epochs must be an integer"):
        load_train_config(write_cfg(tmp_path, cfg))
    cfg = tiny_config(tmp_path, **{"loss.name": "hinge"})
    with pytest.raises(ConfigError, match="not a regression loss"):
        train(config_from_dict(cfg), verbose=False)
    assert main(["train", str(write_cfg(tmp_path, {"epochs": 1})), "--quiet"]) == 2


def test_cli_train_with_overrides_and_evaluate_model(tmp_path, capsys):
    path = write_cfg(tmp_path, tiny_config(tmp_path, epochs=1))
    assert main(["train", str(path), "--quiet", "--set", "loss.name=wing", "--set", "optim.lr=0.002"]) == 0
    assert "best validation NME" in capsys.readouterr().out
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["loss"]["name"] == "wing" and saved["optim"]["lr"] == 0.002
    val = f"csv:{YTF / 'val' / 'landmarks.csv'}"
    assert main(["evaluate", "--data", val, "--model", str(tmp_path / "run" / "best.safetensors"), "--json"]) == 0
    import json

    r = json.loads(capsys.readouterr().out)
    assert r["n"] == 763 and r["nme"] > 0


def test_evaluate_model_scheme_mismatch(tmp_path, capsys):
    from facealign.models import create_model, save_model

    p = save_model(create_model("mobilenetv2", scheme="lapa", input_size=64), tmp_path / "w.safetensors")
    assert main(["evaluate", "--data", f"csv:{YTF / 'val' / 'landmarks.csv'}", "--model", str(p)]) == 2
    assert "model predicts 106 points (lapa)" in capsys.readouterr().err


def test_init_from_starts_from_a_model_and_refuses_another_architecture(tmp_path, capsys):
    src = train(config_from_dict(tiny_config(tmp_path, "src", epochs=1)), verbose=False)
    cfg = config_from_dict(tiny_config(tmp_path, "tuned", epochs=1, max_steps_per_epoch=1, init_from=str(src.out_dir / "final.safetensors"),
                                       **{"optim.lr": 1e-12}))
    tuned = train(cfg, verbose=False)
    a, b = dict(src.model.named_parameters()), dict(tuned.model.named_parameters())
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    # another crop side is a resolution fine-tune: the same weights fit
    sharper = train(config_from_dict(tiny_config(tmp_path, "sharper", epochs=1, max_steps_per_epoch=1,
                                                 init_from=str(src.out_dir / "final.safetensors"),
                                                 **{"optim.lr": 1e-12, "model.input_size": 96})), verbose=False)
    c = dict(sharper.model.named_parameters())
    assert all(torch.allclose(a[k], c[k], atol=1e-6) for k in a)
    bad = write_cfg(tmp_path, tiny_config(tmp_path, "bad", init_from=str(src.out_dir / "final.safetensors"),
                                          **{"model.head": "heatmap", "loss.name": "rr_ce"}))
    assert main(["train", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "init_from model is mobilenetv2_100/regression with 68 points" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("change,named", [
    ({"model.input_size": 96}, "model: "),
    ({"loss.name": "l2"}, "loss: "),
    ({"batch_size": 4}, "batch_size: 8 -> 4"),
])
def test_resume_with_another_config_names_what_differs(tmp_path, capsys, change, named):
    path = write_cfg(tmp_path, tiny_config(tmp_path, epochs=1))
    assert main(["train", str(path), "--quiet"]) == 0
    capsys.readouterr()
    changed = write_cfg(tmp_path, tiny_config(tmp_path, epochs=2, **change), "changed.yaml")
    assert main(["train", str(changed), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume, the config differs from the checkpoint's run in" in err and named in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # more epochs alone is a resume
    longer = write_cfg(tmp_path, tiny_config(tmp_path, epochs=2), "longer.yaml")
    assert main(["train", str(longer), "--quiet", "--resume"]) == 0


@pytest.mark.parametrize("detector", ["yunet", "cascade"])
def test_training_crops_framed_by_a_detector(tmp_path, detector):
    """data.train_boxes: each face's box becomes its detector's calibrated box (close to, but not,
    the landmark box), and a run trains on those crops."""
    from facealign.data import load_dataset
    from facealign.detect import yuface_available
    from facealign.train.detector_boxes import with_detector_boxes

    if detector == "yunet" and not yuface_available():
        pytest.skip("yuface not installed")
    cfg = tiny_config(tmp_path, **{"data.train_boxes": detector, "epochs": 1})
    data = load_dataset(cfg["data"]["train"], images=cfg["data"]["images"], scheme="300w")
    framed, missed = with_detector_boxes(data, detector)
    assert missed <= 1 and len(framed) == len(data)
    for s, f in zip(data, framed):
        lm, box = s.landmark_box(), f.box
        side = max(lm[2] - lm[0], lm[3] - lm[1])
        assert np.abs((box[:2] + box[2:]) / 2 - (lm[:2] + lm[2:]) / 2).max() < 0.25 * side
        assert 0.7 < (box[2] - box[0]) / side < 1.3
    assert sum(not np.allclose(f.box, s.landmark_box()) for s, f in zip(data, framed)) >= len(data) - missed
    res = train(config_from_dict(cfg))
    last = res.history[-1]
    assert math.isfinite(last["val_nme"]) and math.isfinite(last["val_nme_detector"])
    assert last["val_nme_detector"] != last["val_nme"]  # other crops, other points
    assert "val_nme_detector" in next(csv.DictReader(open(tmp_path / cfg["out_dir"] / "log.csv")))


def test_train_boxes_must_name_a_detector(tmp_path):
    with pytest.raises(ConfigError, match="data.train_boxes must be yunet, dlib, cascade or null, got 'mtcnn'"):
        config_from_dict(tiny_config(tmp_path, **{"data.train_boxes": "mtcnn"}))


@pytest.mark.parametrize("shift,message", [([0.01] * 5, r"one value per landmark \(68\), got shape \(5,\)"),
                                           ([0.9] * 68, "finite and within"),
                                           ("left", "wrong type")])
def test_flip_shift_is_checked_when_the_config_loads(tmp_path, shift, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(tiny_config(tmp_path, **{"augment.flip_shift": shift}), "run.yaml")


def test_augment_flip_shift_travels_into_the_model_config(tmp_path):
    """The trained model carries its labels' asymmetry, so its flip test-time augmentation keeps
    their convention; a different model.flip_shift beside it is refused."""
    shift = [0.03] * 68
    cfg = config_from_dict(tiny_config(tmp_path, **{"augment.flip_shift": shift}), "run.yaml")
    assert cfg.model.flip_shift == tuple(shift)
    assert config_from_dict(tiny_config(tmp_path), "run.yaml").model.flip_shift is None
    with pytest.raises(ConfigError, match="model.flip_shift and augment.flip_shift describe the same labels"):
        config_from_dict(tiny_config(tmp_path, **{"augment.flip_shift": shift, "model.flip_shift": [0.02] * 68}), "run.yaml")
    with pytest.raises(ConfigError, match=r"run.yaml: model.flip_shift must hold one value per landmark \(68\)"):
        config_from_dict(tiny_config(tmp_path, **{"model.flip_shift": [0.02] * 5}), "run.yaml")


def test_data_repeat_makes_an_epoch_of_augmented_copies(tmp_path):
    """`data.repeat: R` (the ACR authors' epoch over R offline-augmented copies of each face): R
    times the faces and the steps per epoch, each copy of a face augmented with its own draw."""
    from facealign.data.dataset import CropDataset
    from facealign.train.loop import _set_up

    cfg = config_from_dict(tiny_config(tmp_path, **{"data.repeat": 3}))
    run = _set_up(cfg, resume=False)
    plain = _set_up(config_from_dict(tiny_config(tmp_path, out="plain")), resume=False)
    assert len(run.dataset) == 3 * len(plain.dataset) == 72 and run.steps == 3 * plain.steps == 9
    ds = run.dataset
    a, b = ds[5], ds[5 + 24]  # two copies of face 5
    assert a["index"] == b["index"] == 5 and not torch.equal(a["image"], b["image"])
    still = CropDataset(ds.data, cfg.model, None, repeat=3)  # without augmentation the copies are the face
    assert torch.equal(still[5]["image"], still[5 + 24]["image"])
    with pytest.raises(Exception, match=r"data.repeat must be a number in \[1, 1000\], got 0"):
        config_from_dict(tiny_config(tmp_path, **{"data.repeat": 0}))
