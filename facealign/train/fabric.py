"""Devices, precision and launch through Lightning Fabric, with settings checked before anything starts.

Fabric picks the strategy: one process on one device, DDP (gloo on the CPU, NCCL on GPUs) for
several. ``--devices N`` on one machine launches N processes by re-running the command; under
``torchrun`` or SLURM's ``srun`` the launcher's environment is used instead.
"""

from __future__ import annotations

from typing import Any

from facealign.errors import ConfigError
from facealign.train.config import TrainerConfig


def resolve_accelerator(t: TrainerConfig) -> str:
    """The accelerator ``t`` asks for, checked against this machine: ``cpu``, ``cuda`` or ``mps``.

    Raises:
        ConfigError: the device is not here, there are fewer GPUs than ``devices``, or the
            precision cannot run on it.
    """
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    accel = {"gpu": "cuda"}.get(t.accelerator, t.accelerator)
    if accel == "auto":
        accel = "cuda" if cuda else "mps" if mps else "cpu"
    if accel == "cuda":
        if not cuda:
            raise ConfigError("--accelerator cuda: no CUDA GPU is visible here (torch.cuda.is_available() is False)")
        if t.devices > torch.cuda.device_count():
            raise ConfigError(f"--devices {t.devices}: only {torch.cuda.device_count()} CUDA GPU(s) are visible here")
    if accel == "mps" and not mps:
        raise ConfigError("--accelerator mps: Apple's MPS device is not available here")
    if accel == "mps" and t.devices > 1:
        raise ConfigError(f"--devices {t.devices}: the MPS accelerator has one device")
    if t.precision == "16-mixed" and accel == "cpu":
        raise ConfigError("--precision 16-mixed needs a GPU; on the CPU use bf16-mixed or 32-true")
    return accel


def make_fabric(t: TrainerConfig) -> Any:
    """A launched :class:`lightning_fabric.Fabric` for ``t`` (this process's rank is set up)."""
    try:
        from lightning_fabric import Fabric
    except ImportError:
        raise ConfigError("training needs lightning-fabric: pip install lightning-fabric") from None
    fabric = Fabric(accelerator=resolve_accelerator(t), devices=t.devices, num_nodes=t.num_nodes,
                    precision=t.precision)  # type: ignore[arg-type]
    fabric.launch()
    return fabric


def step_generator(device: Any, seed: int, epoch: int, rank: int) -> Any:
    """The generator of one rank's random training targets in one epoch.

    Randomized-rounding draws come from here, on the batch's device, seeded by (seed, epoch, rank):
    a resumed run re-creates it at the start of its epoch, so the draws never depend on what the
    process did before (resume stays exact), and each rank draws its own.
    """
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(((seed * 1_000_003 + epoch) * 1_009 + rank) % (2**63))
    return g
