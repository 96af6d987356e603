"""The training loop: explicit PyTorch steps on Lightning Fabric (devices, precision, DDP, launch).

Where the randomness lives, and why ``resume`` is exact:
- the shuffle order of epoch e: a CPU generator seeded with (seed, e), dealt round-robin to ranks;
- the augmentation of item i in epoch e: numpy, seeded with (seed, e, i) (``CropDataset``);
- randomized-rounding targets: a generator on the batch's device seeded with (seed, e, rank),
  made at the start of each epoch (``train.fabric.step_generator``);
- dropout (and the DataLoader's worker seeds): the global torch RNG of the device, which every
  checkpoint saves (CPU and, on a GPU, CUDA) and a resume restores.
A checkpoint is written after each complete epoch, so a resumed run repeats the same epochs with
the same numbers. Checkpoints and logs are written once (rank 0); validation runs on rank 0 in
float32 while the other ranks wait.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from torch.utils.data import DataLoader

from facealign.data.check import training_problems
from facealign.data.dataset import CropDataset
from facealign.data.sample import LandmarkSet
from facealign.data.sources import load_dataset
from facealign.errors import ConfigError, FaceAlignError
from facealign.metrics import nme, summarize
from facealign.models.landmark_model import LandmarkModel, save_model
from facealign.predict.on_dataset import predict_dataset
from facealign.train.config import OptimConfig, TrainConfig
from facealign.train.detector_boxes import detector_boxes, with_boxes
from facealign.train.fabric import make_fabric, step_generator
from facealign.train.objective import build_objective
from facealign.utils.io import atomic_write, atomic_write_text, remove_dead_temps
from facealign.utils.progress import progress_bar

if TYPE_CHECKING:
    from facealign.data.crop import BoxSource
    from facealign.metrics.nme import Normalizer

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


@dataclass
class _Run:
    """What one training run holds between its steps."""

    cfg: TrainConfig
    fabric: Any
    rank: int
    world: int
    out: Path
    model: LandmarkModel
    net: torch.nn.Module
    objective: Any
    dataset: CropDataset
    val_data: LandmarkSet | None
    steps: int
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    # val faces framed by data.train_boxes' detector (rank 0): scored as the pipeline sees them
    val_framed: LandmarkSet | None = None
    start_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_nme: float = float("inf")
    best_epoch: int = -1

    @property
    def main(self) -> bool:
        return self.rank == 0


def train(cfg: TrainConfig, resume: bool = False, verbose: bool = True) -> TrainResult:
    """Train a model as ``cfg`` says; files go to ``cfg.out_dir``.

    Writes ``config.yaml``, ``log.csv`` (one row per epoch), ``last.ckpt`` (every epoch, atomic),
    ``best.safetensors`` (lowest validation NME) and ``final.safetensors``.

    Args:
        resume: Continue from ``out_dir/last.ckpt`` if it exists.
    """
    run = _set_up(cfg, resume)
    ckpt_path = run.out / CHECKPOINT
    if resume and ckpt_path.exists():
        _restore(run, ckpt_path)
        if run.main and verbose:
            _log(f"resumed from {ckpt_path} after epoch {run.start_epoch - 1}")
    if run.main:
        import yaml

        atomic_write_text(run.out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    for epoch in range(run.start_epoch, cfg.epochs):
        row = _train_epoch(run, epoch, verbose)
        run.fabric.barrier()
        if run.main:
            _end_epoch(run, epoch, row, verbose)
        run.fabric.barrier()
    if run.main:
        save_model(run.model, run.out / FINAL, {"epoch": cfg.epochs - 1, "train_config": cfg.to_dict()})
    return TrainResult(run.out, run.history, run.best_nme, run.best_epoch, run.model)


def _set_up(cfg: TrainConfig, resume: bool) -> _Run:
    """Data, Fabric, model (seeded), objective, crops, optimiser and schedule of a fresh run.

    The data are read and the batch checked before Fabric launches, so that a bad setting stops
    the command with one line instead of in every process it would start.
    """
    train_data, val_data = _load_data(cfg)
    problems = training_problems(train_data)
    if problems:
        raise FaceAlignError(problems[0] + (f" (and {len(problems) - 1} more faces; see facealign data check)"
                                            if len(problems) > 1 else ""))
    steps = _steps_per_epoch(cfg, len(train_data), cfg.trainer.devices * cfg.trainer.num_nodes)
    fabric = make_fabric(cfg.trainer)
    rank, world = fabric.global_rank, fabric.world_size
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if (out / CHECKPOINT).exists() and not resume:
            raise FaceAlignError(f"{out}: holds a run already ({CHECKPOINT}); use --resume or another out_dir")
        for name in (CHECKPOINT, BEST, FINAL, LOG, "config.yaml"):  # what a killed run was writing
            remove_dead_temps(out / name)
    torch.manual_seed(cfg.seed)
    model = LandmarkModel(cfg.model, cfg.pretrained)
    if cfg.init_from:
        _start_from(model, cfg.init_from)
    if train_data.scheme.num_points != model.scheme.num_points:
        raise FaceAlignError(f"{cfg.data.train}: {train_data.scheme.num_points} points per face, but the model's "
                             f"scheme {model.scheme.name!r} has {model.scheme.num_points}")
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model = model.to(fabric.device)
    objective = build_objective(cfg, model.codec, train_data)
    box, val_framed = None, None
    if cfg.data.train_boxes:
        # one process searches the images and the others take its boxes: on a node of 8 GPUs
        # every process would otherwise run the detector on every training image
        found = detector_boxes(train_data, cfg.data.train_boxes) if rank == 0 else None
        boxes, missed = fabric.broadcast(found, src=0) if world > 1 else found  # type: ignore[misc]  # rank 0's
        train_data = with_boxes(train_data, boxes)
        box = "dataset"
        if rank == 0:
            _log(f"training crops framed by {cfg.data.train_boxes}'s calibrated boxes; {missed} of "
                 f"{len(train_data)} faces not found keep their landmark box")
            if val_data is not None:
                val_framed = with_boxes(val_data, detector_boxes(val_data, cfg.data.train_boxes)[0])
    ds = CropDataset(train_data, cfg.model, cfg.augment, cfg.seed, box=cast("BoxSource | None", box), repeat=cfg.data.repeat)
    steps = _steps_per_epoch(cfg, len(ds), world)
    net = fabric.setup_module(torch.compile(model) if cfg.trainer.compile else model)
    opt, sched = _optimizer_and_schedule(fabric, model, cfg, steps, 1 if cfg.optim.reset_each_epoch else cfg.epochs)
    return _Run(cfg, fabric, rank, world, out, model, net, objective, ds, val_data, steps, opt, sched, val_framed)


def _start_from(model: LandmarkModel, source: str) -> None:
    """Copy the weights of the facealign model ``source`` (name or file) into ``model``."""
    from facealign.models.landmark_model import load_weights, read_model_file
    from facealign.zoo import resolve

    path = resolve(source)
    cfg, state, _ = read_model_file(path)
    mine = model.config
    # the crop side may differ (fine-tuning at another resolution): the weights do not depend on it
    if (cfg.backbone, cfg.head, cfg.get_scheme().num_points) != (mine.backbone, mine.head, mine.get_scheme().num_points):
        raise ConfigError(f"{path}: init_from model is {cfg.backbone}/{cfg.head} with {cfg.get_scheme().num_points} "
                          f"points; the config asks for {mine.backbone}/{mine.head} with {mine.get_scheme().num_points}")
    try:
        load_weights(model, state, path)
    except FaceAlignError as e:
        raise ConfigError(f"init_from: {e}") from None


def _load_data(cfg: TrainConfig) -> tuple[LandmarkSet, LandmarkSet | None]:
    scheme = cfg.model.scheme if isinstance(cfg.model.scheme, str) else None
    train_data = load_dataset(cfg.data.train, split=cfg.data.train_split, images=cfg.data.images, scheme=scheme)
    val_data = (load_dataset(cfg.data.val, split=cfg.data.val_split, images=cfg.data.val_images, scheme=scheme)
                if cfg.data.val else None)
    return train_data, val_data


def _steps_per_epoch(cfg: TrainConfig, faces: int, world: int) -> int:
    """Full batches per process and epoch; each process takes every world-th face of the shuffle."""
    steps = faces // world // cfg.batch_size
    if steps < 1:
        raise ConfigError(f"{cfg.data.train}: {faces} training faces make no full batch: {world} process(es) x "
                          f"batch_size {cfg.batch_size} need at least {world * cfg.batch_size} (batch_size is per process)")
    return min(steps, cfg.max_steps_per_epoch) if cfg.max_steps_per_epoch else steps


def _optimizer_and_schedule(fabric: Any, model: torch.nn.Module, cfg: TrainConfig, steps: int, epochs: int):
    opt = fabric.setup_optimizers(make_optimizer(model.parameters(), cfg.optim))
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(cfg.optim, s, steps, epochs))


def _restore(run: _Run, ckpt_path: Path) -> None:
    """Weights, optimiser, schedule, history and the global torch RNG of the last complete epoch."""
    try:
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise FaceAlignError(f"{ckpt_path}: cannot resume, checkpoint unreadable ({e})") from None
    _check_same_run(ckpt_path, ck, run.cfg)
    try:
        run.model.load_state_dict(ck["model"])
        run.opt.load_state_dict(ck["optim"])
    except (RuntimeError, ValueError, KeyError) as e:
        raise FaceAlignError(f"{ckpt_path}: cannot resume, the checkpoint's weights do not fit this model "
                             f"({str(e).splitlines()[0][:200]})") from None
    run.sched.load_state_dict(ck["sched"])
    run.start_epoch, run.history = int(ck["epoch"]) + 1, list(ck["history"])
    run.best_nme, run.best_epoch = float(ck["best_nme"]), int(ck["best_epoch"])
    # the schedule counts steps; a checkpoint of another world size had another number per epoch
    run.sched.last_epoch = 0 if run.cfg.optim.reset_each_epoch else run.start_epoch * run.steps
    torch.set_rng_state(ck["torch_rng"])
    if "cuda_rng" in ck and run.fabric.device.type == "cuda":
        torch.cuda.set_rng_state(ck["cuda_rng"], run.fabric.device)


# What a resumed run may change: how long and where it runs, and how it is logged. Anything else
# (model, loss, optimiser, augmentation, data...) makes a different run.
_RESUMABLE_CHANGES = {"epochs", "trainer", "workers", "threads", "out_dir", "log_every", "val_batch_size", "data"}


def _check_same_run(ckpt_path: Path, ck: dict, cfg: TrainConfig) -> None:
    """Name every setting that differs from the checkpoint's run (one line) instead of failing
    later inside ``load_state_dict``."""
    if not isinstance(ck, dict) or not all(k in ck for k in ("model", "optim", "sched", "epoch", "history", "config")):
        raise FaceAlignError(f"{ckpt_path}: cannot resume, not a facealign training checkpoint")
    try:
        old = json.loads(ck["config"])
    except (TypeError, ValueError):
        raise FaceAlignError(f"{ckpt_path}: cannot resume, the checkpoint's config is unreadable") from None
    new = json.loads(json.dumps(cfg.to_dict()))
    diffs = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new))
             if k not in _RESUMABLE_CHANGES and old.get(k) != new.get(k)]
    if diffs:
        raise ConfigError(f"{ckpt_path}: cannot resume, the config differs from the checkpoint's run in "
                          + "; ".join(d[:160] for d in diffs) + " (start a new out_dir for a different run)")


def _epoch_batches(run: _Run, epoch: int) -> list[list[int]]:
    """This rank's batches of ``epoch``: a shuffle seeded with (seed, epoch), dealt round-robin."""
    cfg, n = run.cfg, len(run.dataset)
    g = torch.Generator().manual_seed(cfg.seed * 100003 + epoch)
    per_rank = n // run.world
    order = torch.randperm(n, generator=g)[run.rank:per_rank * run.world:run.world][:run.steps * cfg.batch_size].tolist()
    return [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]


def _train_epoch(run: _Run, epoch: int, verbose: bool) -> dict[str, Any]:
    """One pass over this rank's batches; returns the epoch's log row (loss, lr, speed, objective state)."""
    cfg = run.cfg
    extra = run.objective.set_epoch(epoch)
    run.dataset.set_epoch(epoch)
    if cfg.optim.reset_each_epoch and epoch > 0:  # as the released ACR code: a fresh optimiser every epoch
        run.opt, run.sched = _optimizer_and_schedule(run.fabric, run.model, cfg, run.steps, 1)
    gpu = run.fabric.device.type == "cuda"
    loader = DataLoader(run.dataset, batch_sampler=_epoch_batches(run, epoch), num_workers=cfg.workers,
                        persistent_workers=False, prefetch_factor=4 if cfg.workers else None, pin_memory=gpu)
    loader = run.fabric.setup_dataloaders(loader, use_distributed_sampler=False)  # batches arrive on the device
    generator = step_generator(run.fabric.device, cfg.seed, epoch, run.rank)
    run.net.train()
    t0 = time.perf_counter()
    loss_sum, seen = 0.0, 0
    with progress_bar(f"epoch {epoch + 1}/{cfg.epochs}", run.steps, quiet=not (run.main and verbose)) as advance:
        for step, batch in enumerate(loader):
            loss = _train_step(run, batch, generator, epoch, step)
            loss_sum += loss * len(batch["image"])
            seen += len(batch["image"])
            advance()
            if run.main and verbose and cfg.log_every and (step + 1) % cfg.log_every == 0 and not sys.stderr.isatty():
                rate = seen / (time.perf_counter() - t0)
                _log(f"epoch {epoch + 1}/{cfg.epochs} step {step + 1}/{run.steps} loss {loss_sum / seen:.4f} "
                     f"{rate * run.world:.1f} img/s")
    train_time = time.perf_counter() - t0
    return {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "lr": run.opt.param_groups[0]["lr"],
            "img_per_s": seen * run.world / train_time, **extra}


def _train_step(run: _Run, batch: dict, generator: torch.Generator, epoch: int, step: int) -> float:
    x = batch["image"]
    if run.cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    output = run.net(x).float()  # the loss in float32 under mixed precision
    loss = run.objective(output, batch, generator)
    if not torch.isfinite(loss):
        raise FaceAlignError(f"loss became {loss.item()} at epoch {epoch} step {step}; lower optim.lr")
    run.opt.zero_grad(set_to_none=True)
    run.fabric.backward(loss)
    run.opt.step()
    run.sched.step()
    return loss.item()


def _validate(run: _Run) -> dict[str, float]:
    """NME / FR / AUC (%) of the current weights on the validation set (rank 0 only)."""
    assert run.val_data is not None
    st = _score(run, run.val_data)
    scores = {"val_nme": st["nme"], "val_fr": st["fr"], "val_auc": st["auc"]}
    if run.val_framed is not None:  # logged beside the selection metric, which stays the benchmark protocol's
        st = _score(run, run.val_framed, box="dataset")
        scores.update({"val_nme_detector": st["nme"], "val_fr_detector": st["fr"]})
    return scores


def _score(run: _Run, data: LandmarkSet, box: str | None = None) -> dict[str, float]:
    """summarize() of the current weights' NME on ``data``, cropped around ``box`` (the model's by default)."""
    metric_norm = "inter_ocular" if run.model.scheme.outer_eye_corners is not None else "bbox"
    pred, _ = predict_dataset(run.model, data, box=box, batch_size=run.cfg.val_batch_size, device=run.fabric.device)
    return summarize(nme(pred, data.landmarks(), data.scheme, cast("Normalizer", metric_norm)))


def _end_epoch(run: _Run, epoch: int, row: dict[str, Any], verbose: bool) -> None:
    """Validation, best model, log and checkpoint of a finished epoch (rank 0)."""
    cfg = run.cfg
    if run.val_data is not None:
        row.update(_validate(run))
        score = row["val_nme"]
    else:
        score = -epoch  # no validation: the latest is the best
    improved = score < run.best_nme
    if improved:
        run.best_nme, run.best_epoch = score, epoch
        save_model(run.model, run.out / BEST, {"epoch": epoch, "val": {k: row[k] for k in row if k.startswith("val_")},
                                               "train_config": cfg.to_dict()})
    row["best"] = improved
    run.history.append(row)
    _write_log(run.out / LOG, run.history)
    state = {"model": run.model.state_dict(), "optim": run.opt.state_dict(), "sched": run.sched.state_dict(),
             "epoch": epoch, "history": run.history, "best_nme": run.best_nme, "best_epoch": run.best_epoch,
             "torch_rng": torch.get_rng_state(), "config": json.dumps(cfg.to_dict()), "world_size": run.world}
    if run.fabric.device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(run.fabric.device)
    def write(t: Path) -> None:
        torch.save(state, t)

    atomic_write(run.out / CHECKPOINT, write)
    if verbose:
        _log(f"epoch {epoch + 1}/{cfg.epochs} loss {row['train_loss']:.4f} "
             + (f"val NME {row['val_nme']:.3f}% FR {row['val_fr']:.2f}% " if "val_nme" in row else "")
             + (f"through {cfg.data.train_boxes} {row['val_nme_detector']:.3f}% " if "val_nme_detector" in row else "")
             + f"{row['img_per_s']:.1f} img/s{' *' if improved else ''}")


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
