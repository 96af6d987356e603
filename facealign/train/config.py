"""Training configuration: small dataclasses, read from YAML with typed, named errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facealign.constants import ACR_VARIANCES, AUTHORS_PCA_DRAWS
from facealign.data.augment import AugmentConfig, flip_shift_problem
from facealign.errors import ConfigError
from facealign.models.config import ModelConfig, number_in
from facealign.utils.config import dataclass_from_dict, load_yaml


@dataclass
class DataConfig:
    """Data sets as ``FORMAT:PATH`` (see ``facealign.data.load_dataset``).

    ``train_boxes``: crop each training face around the calibrated box of this detector
    (``yunet``, ``dlib``, ``cascade``), as the inference pipeline frames faces, instead of the
    model's box; faces it misses keep their landmark box. Validation keeps the model's box (its
    NME chooses the best epoch) and also scores the val faces framed by the same detector
    (``val_nme_detector`` in log.csv).

    ``repeat``: an epoch is one pass over this many augmented copies of each training face (each
    drawn anew), as the ACR authors' epoch is one pass over the 10 (300-W) or 20 (COFW) offline
    augmented copies their toolkit writes of each face; the steps per epoch grow with it, and
    schedules counted in epochs (the ACR variance schedule, a re-created optimiser) keep the
    authors' spacing.
    """

    train: str = ""
    val: str | None = None
    train_split: str | None = None
    val_split: str | None = None
    images: str | None = None
    val_images: str | None = None
    train_boxes: str | None = None
    repeat: int = 1


@dataclass
class LossConfig:
    """Loss of the head.

    Regression: ``acr`` (default), ``l2``, ``l1``, ``wing``. ACR options: ``acr_lambda`` (the
    released code never sets it; 1.0 proposed), ``acr_continuous`` (C = lambda ln2 - 1 instead of
    Phi ln2 - 1), the variance schedule (``variance_milestones`` in epochs, default the paper's
    16/31/71 of 150 scaled to the run's length), ``pca_file`` (default: fitted on the training
    set at start) and ``pca_draws``: the fitted shape model sees each training face, its mirror
    image when training flips, and ``pca_draws`` copies under random draws of the run's geometric
    augmentation (default 9, as the authors' toolkit fits it for 300-W on each face plus 9
    augmented copies; their COFW shape model has 19; 0: the faces as they are).
    """

    name: str = "acr"
    acr_lambda: float = 1.0
    acr_continuous: bool = False
    variance_milestones: list[int] | None = None
    variance_values: list[float] = field(default_factory=lambda: list(ACR_VARIANCES))
    pca_file: str | None = None
    pca_draws: int = AUTHORS_PCA_DRAWS
    wing_w: float = 10.0
    wing_eps: float = 2.0


@dataclass
class OptimConfig:
    """Optimiser and learning-rate schedule.

    ``schedule``: ``cosine`` (per step, to ``lr * min_lr_ratio``, after ``warmup_epochs``),
    ``step`` (x ``gamma`` at ``milestones`` epochs), ``keras_decay`` (lr / (1 + decay * step), the
    ACR code's Keras schedule) or ``constant``. ``reset_each_epoch`` re-creates the optimiser every
    epoch, as the released ACR code does.
    """

    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    momentum: float = 0.9
    schedule: str = "cosine"
    warmup_epochs: int = 0
    min_lr_ratio: float = 0.01
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.1
    keras_decay: float = 1e-5
    reset_each_epoch: bool = False


ACCELERATORS = ("auto", "cpu", "cuda", "gpu", "mps")
PRECISIONS = ("32-true", "bf16-mixed", "16-mixed", "bf16-true", "64-true")


@dataclass
class TrainerConfig:
    """Where and how training runs (Lightning Fabric).

    Attributes:
        accelerator: ``auto`` (a GPU when there is one), ``cpu``, ``cuda`` (``gpu``) or ``mps``.
        devices: Processes per machine (one per GPU; on the CPU, processes sharing its cores).
        num_nodes: Machines (multi-node runs start under ``torchrun`` or SLURM's ``srun``).
        precision: ``32-true``, ``bf16-mixed``, ``16-mixed`` (GPU only), ``bf16-true``, ``64-true``.
        compile: ``torch.compile`` the model before training.

    ``batch_size`` is per process (as the paper recipes state it per GPU): the global batch is
    ``batch_size * devices * num_nodes``.
    """

    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    precision: str = "32-true"
    compile: bool = False


@dataclass
class TrainConfig:
    """One training run.

    ``pretrained``: optional local weights file of the backbone (e.g. timm ImageNet weights saved
    as .safetensors or a torch state dict); nothing is ever downloaded.
    ``init_from``: a facealign model (registry name or .safetensors file) whose weights start the
    run (fine-tuning); its architecture must be the config's (backbone, head, size, points).
    """

    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    epochs: int = 60
    batch_size: int = 32
    workers: int = 1
    seed: int = 0
    threads: int | None = None
    channels_last: bool = True
    out_dir: str = "runs/exp"
    max_steps_per_epoch: int | None = None
    val_batch_size: int = 64
    log_every: int = 20
    pretrained: str | None = None
    init_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model"] = self.model.to_dict()
        return d


def load_train_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML training config; ``overrides`` maps dotted keys (``optim.lr``) to values."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not a UTF-8 text file (byte {e.start})") from None
    raw = load_yaml(text, str(p)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: a training config is a mapping of keys to values, got a {type(raw).__name__}")
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value, p)
    return config_from_dict(raw, str(p))


def _set_dotted(raw: dict[str, Any], key: str, value: Any, p: Path) -> None:
    """``raw[a][b] = value`` for ``key`` 'a.b', refusing a path through a value that is not a section."""
    cur = raw
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        nxt = cur.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{p}: --set {key}: {'.'.join(parts[:i + 1])} is a value ({nxt!r}), not a section")
        cur = nxt
    cur[parts[-1]] = value


def config_from_dict(raw: dict[str, Any], source: str = "config") -> TrainConfig:
    cfg = dataclass_from_dict(TrainConfig, raw, source)
    if not cfg.data.train:
        raise ConfigError(f"{source}: data.train is required (FORMAT:PATH)")
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ConfigError(f"{source}: epochs and batch_size must be >= 1")
    t = cfg.trainer
    if t.accelerator not in ACCELERATORS:
        raise ConfigError(f"{source}: trainer.accelerator {t.accelerator!r}; choose one of {list(ACCELERATORS)}")
    if t.precision not in PRECISIONS:
        raise ConfigError(f"{source}: trainer.precision {t.precision!r}; choose one of {list(PRECISIONS)}")
    if t.devices < 1 or t.num_nodes < 1:
        raise ConfigError(f"{source}: trainer.devices and trainer.num_nodes must be >= 1")
    _check_ranges(cfg, source)
    if cfg.augment is not None and cfg.augment.flip_shift is not None:
        # the trained model carries its labels' asymmetry, so its flip test-time augmentation keeps it
        shift = tuple(float(v) for v in cfg.augment.flip_shift)
        if cfg.model.flip_shift is None:
            cfg.model.flip_shift = shift
        elif tuple(float(v) for v in cfg.model.flip_shift) != shift:
            raise ConfigError(f"{source}: model.flip_shift and augment.flip_shift describe the same labels; "
                              "give one of them, or equal values")
    return cfg


# (dotted key, lowest, highest): values outside fail at load with one line, not deep in training
_RANGES = [
    ("optim.lr", 1e-12, 10.0), ("optim.weight_decay", 0.0, 1.0), ("optim.eps", 1e-12, 1.0),
    ("optim.momentum", 0.0, 1.0), ("optim.gamma", 1e-6, 1.0), ("optim.min_lr_ratio", 0.0, 1.0),
    ("optim.warmup_epochs", 0, 10_000), ("optim.keras_decay", 0.0, 1.0),
    ("loss.pca_draws", 0, 100), ("data.repeat", 1, 1000), ("workers", 0, 256), ("val_batch_size", 1, 100_000),
    ("log_every", 0, 10**9),
    ("seed", 0, 2**63 - 1),
]


def _check_ranges(cfg: TrainConfig, source: str) -> None:
    for key, lo, hi in _RANGES:
        obj: Any = cfg
        for part in key.split("."):
            obj = getattr(obj, part)
        if not number_in(obj, lo, hi):
            raise ConfigError(f"{source}: {key} must be a number in [{lo:g}, {hi:g}], got {obj!r}")
    if cfg.threads is not None and not number_in(cfg.threads, 1, 1024):
        raise ConfigError(f"{source}: threads must be >= 1 (or null for the default), got {cfg.threads!r}")
    if cfg.max_steps_per_epoch is not None and not number_in(cfg.max_steps_per_epoch, 1, 10**9):
        raise ConfigError(f"{source}: max_steps_per_epoch must be >= 1 (or null), got {cfg.max_steps_per_epoch!r}")
    if cfg.data.train_boxes not in (None, "yunet", "dlib", "cascade"):
        raise ConfigError(f"{source}: data.train_boxes must be yunet, dlib, cascade or null, got {cfg.data.train_boxes!r}")
    cfg.model.check(source, prefix="model.")
    if cfg.augment is not None and cfg.augment.flip_shift is not None:
        problem = flip_shift_problem(cfg.augment.flip_shift, cfg.model.get_scheme().num_points)
        if problem:
            raise ConfigError(f"{source}: {problem}")
    if cfg.model.crop != "facealign":
        # training warps crops with augmentation folded in; the authors' crops exist to run their models
        raise ConfigError(f"{source}: model.crop {cfg.model.crop!r} is for imported models; training uses crop: facealign")
    if Path(cfg.out_dir).exists() and not Path(cfg.out_dir).is_dir():
        raise ConfigError(f"{source}: out_dir {cfg.out_dir!r} is a file, not a folder")
