"""The training loop: plain PyTorch, optionally distributed with torchrun + DDP (gloo on CPU).

Determinism: the shuffle order of epoch e comes from a generator seeded with (seed, e), the
augmentation of item i from (seed, e, i), and the global torch RNG (dropout) is saved in every
checkpoint, so ``resume`` continues exactly where the last complete epoch ended.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from facealign.data.dataset import CropDataset
from facealign.data.sources import load_dataset
from facealign.errors import ConfigError, FaceAlignError
from facealign.metrics import nme, summarize
from facealign.models.landmark_model import LandmarkModel, save_model
from facealign.predict.on_dataset import predict_dataset
from facealign.train.config import OptimConfig, TrainConfig
from facealign.train.objective import build_objective
from facealign.utils.io import atomic_write, atomic_write_text
from facealign.utils.progress import progress_bar

CHECKPOINT = "last.ckpt"
BEST = "best.safetensors"
FINAL = "final.safetensors"
LOG = "log.csv"


@dataclass
class TrainResult:
    out_dir: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    best_nme: float = float("inf")
    best_epoch: int = -1
    model: LandmarkModel | None = None


def _dist() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment, initialising the process group if needed."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), world


def make_optimizer(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    if cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
    raise ConfigError(f"unknown optimiser {cfg.name!r}; choose adam, adamw or sgd")


def lr_factor(cfg: OptimConfig, step: int, steps_per_epoch: int, epochs: int) -> float:
    """Learning-rate multiplier at global step ``step`` (epoch-local when the optimiser is reset)."""
    epoch = step / max(steps_per_epoch, 1)
    if cfg.schedule == "constant":
        f = 1.0
    elif cfg.schedule == "keras_decay":
        f = 1.0 / (1.0 + cfg.keras_decay * step)
    elif cfg.schedule == "step":
        f = cfg.gamma ** sum(epoch >= m for m in cfg.milestones)
    elif cfg.schedule == "cosine":
        w = cfg.warmup_epochs
        if epoch < w:
            return (epoch + 1.0 / max(steps_per_epoch, 1)) / w
        t = min((epoch - w) / max(epochs - w, 1e-9), 1.0)
        f = cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))
    else:
        raise ConfigError(f"unknown schedule {cfg.schedule!r}; choose cosine, step, keras_decay or constant")
    if cfg.warmup_epochs and cfg.schedule != "cosine" and epoch < cfg.warmup_epochs:
        f *= (epoch + 1.0 / max(steps_per_epoch, 1)) / cfg.warmup_epochs
    return f


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def train(cfg: TrainConfig, resume: bool = False, verbose: bool = True) -> TrainResult:
    """Train a model as ``cfg`` says; files go to ``cfg.out_dir``.

    Writes ``config.yaml``, ``log.csv`` (one row per epoch), ``last.ckpt`` (every epoch, atomic),
    ``best.safetensors`` (lowest validation NME) and ``final.safetensors``.

    Args:
        resume: Continue from ``out_dir/last.ckpt`` if it exists.
    """
    rank, world = _dist()
    main = rank == 0
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    ckpt_path = out / CHECKPOINT
    if main:
        out.mkdir(parents=True, exist_ok=True)
        if ckpt_path.exists() and not resume:
            raise FaceAlignError(f"{out}: holds a run already ({CHECKPOINT}); use --resume or another out_dir")

    train_data = load_dataset(cfg.data.train, split=cfg.data.train_split, images=cfg.data.images,
                              scheme=cfg.model.scheme if isinstance(cfg.model.scheme, str) else None)
    val_data = (load_dataset(cfg.data.val, split=cfg.data.val_split, images=cfg.data.val_images,
                             scheme=cfg.model.scheme if isinstance(cfg.model.scheme, str) else None)
                if cfg.data.val else None)
    torch.manual_seed(cfg.seed)
    model = LandmarkModel(cfg.model, cfg.pretrained)
    if train_data.scheme.num_points != model.scheme.num_points:
        raise FaceAlignError(f"{cfg.data.train}: {train_data.scheme.num_points} points per face, but the model's "
                             f"scheme {model.scheme.name!r} has {model.scheme.num_points}")
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    objective = build_objective(cfg, model, train_data)
    ds = CropDataset(train_data, cfg.model.input_size, cfg.model.box, cfg.model.crop_scale, cfg.augment, cfg.seed)  # type: ignore[arg-type]
    n = len(ds)
    per_rank = n // world
    steps = per_rank // cfg.batch_size
    if cfg.max_steps_per_epoch:
        steps = min(steps, cfg.max_steps_per_epoch)
    if steps < 1:
        raise ConfigError(f"{cfg.data.train}: {n} faces are fewer than one batch of {cfg.batch_size} per process")

    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    opt = make_optimizer(model.parameters(), cfg.optim)
    reset = cfg.optim.reset_each_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(cfg.optim, s, steps, 1 if reset else cfg.epochs))

    start_epoch, history = 0, []
    best_nme, best_epoch = float("inf"), -1
    if resume and ckpt_path.exists():
        try:
            ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001
            raise FaceAlignError(f"{ckpt_path}: cannot resume, checkpoint unreadable ({e})") from None
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        sched.load_state_dict(ck["sched"])
        start_epoch, history = int(ck["epoch"]) + 1, list(ck["history"])
        best_nme, best_epoch = float(ck["best_nme"]), int(ck["best_epoch"])
        torch.set_rng_state(ck["torch_rng"])
        if main and verbose:
            _log(f"resumed from {ckpt_path} after epoch {start_epoch - 1}")
    if main:
        import yaml

        atomic_write_text(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))

    metric_norm = "inter_ocular" if model.scheme.outer_eye_corners is not None else "bbox"
    for epoch in range(start_epoch, cfg.epochs):
        extra = objective.set_epoch(epoch)
        ds.set_epoch(epoch)
        if reset and epoch > start_epoch:
            opt = make_optimizer(model.parameters(), cfg.optim)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(cfg.optim, s, steps, 1))
        g = torch.Generator().manual_seed(cfg.seed * 100003 + epoch)
        order = torch.randperm(n, generator=g)[rank:per_rank * world:world][:steps * cfg.batch_size].tolist()
        batches = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        loader = DataLoader(ds, batch_sampler=batches, num_workers=cfg.workers,
                            persistent_workers=False, prefetch_factor=4 if cfg.workers else None)
        net.train()
        t0 = time.perf_counter()
        loss_sum, seen = 0.0, 0
        with progress_bar(f"epoch {epoch + 1}/{cfg.epochs}", steps, quiet=not (main and verbose)) as advance:
            for step, batch in enumerate(loader):
                x = batch["image"]
                if cfg.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                output = net(x)
                loss = objective(output, batch)
                if not torch.isfinite(loss):
                    raise FaceAlignError(f"loss became {loss.item()} at epoch {epoch} step {step}; lower optim.lr")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.item() * len(x)
                seen += len(x)
                advance()
                if main and verbose and cfg.log_every and (step + 1) % cfg.log_every == 0 and not sys.stderr.isatty():
                    rate = seen / (time.perf_counter() - t0)
                    _log(f"epoch {epoch + 1}/{cfg.epochs} step {step + 1}/{steps} loss {loss_sum / seen:.4f} "
                         f"{rate * world:.1f} img/s")
        train_time = time.perf_counter() - t0
        row: dict[str, Any] = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1),
                               "lr": opt.param_groups[0]["lr"], "img_per_s": seen * world / train_time, **extra}
        if world > 1:
            torch.distributed.barrier()
        if main:
            if val_data is not None:
                pred, _ = predict_dataset(model, val_data, batch_size=cfg.val_batch_size, channels_last=cfg.channels_last)
                st = summarize(nme(pred, val_data.landmarks(), val_data.scheme, metric_norm))
                row.update({"val_nme": st["nme"], "val_fr": st["fr"], "val_auc": st["auc"]})
                score = st["nme"]
            else:
                score = -epoch  # no validation: the latest is the best
            improved = score < best_nme
            if improved:
                best_nme, best_epoch = score, epoch
                save_model(model, out / BEST, {"epoch": epoch, "val": {k: row[k] for k in row if k.startswith("val_")},
                                               "train_config": cfg.to_dict()})
            row["best"] = improved
            history.append(row)
            _write_log(out / LOG, history)
            state = {"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(),
                     "epoch": epoch, "history": history, "best_nme": best_nme, "best_epoch": best_epoch,
                     "torch_rng": torch.get_rng_state(), "config": json.dumps(cfg.to_dict())}
            atomic_write(ckpt_path, lambda t, state=state: torch.save(state, t))
            if verbose:
                _log(f"epoch {epoch + 1}/{cfg.epochs} loss {row['train_loss']:.4f} "
                     + (f"val NME {row['val_nme']:.3f}% FR {row['val_fr']:.2f}% " if "val_nme" in row else "")
                     + f"{row['img_per_s']:.1f} img/s{' *' if improved else ''}")
        if world > 1:
            torch.distributed.barrier()
    if main:
        save_model(model, out / FINAL, {"epoch": cfg.epochs - 1, "train_config": cfg.to_dict()})
    return TrainResult(out, history, best_nme, best_epoch, model)


def _write_log(path: Path, history: list[dict[str, Any]]) -> None:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]

    def write(t: Path) -> None:
        with open(t, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            for row in history:
                w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    atomic_write(path, write)
    try:  # TensorBoard when it is installed
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # noqa: BLE001
        return
    row = history[-1]
    with SummaryWriter(str(path.parent / "tb")) as tb:
        for k, v in row.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "epoch":
                tb.add_scalar(k, v, row["epoch"])
