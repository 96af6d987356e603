"""``facealign train CONFIG.yaml``."""

from __future__ import annotations

import argparse

from facealign.cli.common import at_least
from facealign.errors import ConfigError
from facealign.utils.config import load_yaml


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a YAML config",
                       description="Train a model on Lightning Fabric. Several processes on one machine: --devices N; "
                                   "several machines: torchrun or srun (docs/training.md)")
    p.add_argument("config", help="training config (.yaml), see configs/")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last.ckpt")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.lr=0.0005 --set epochs=5 (YAML values)")
    p.add_argument("--accelerator", choices=["auto", "cpu", "cuda", "gpu", "mps"],
                   help="where to train (default: the config's trainer.accelerator, auto = a GPU when there is one)")
    p.add_argument("--devices", type=at_least(1), help="processes per machine, one per GPU (trainer.devices)")
    p.add_argument("--num-nodes", type=at_least(1), help="machines (trainer.num_nodes)")
    p.add_argument("--precision", choices=["32-true", "bf16-mixed", "16-mixed", "bf16-true", "64-true"],
                   help="numeric precision (trainer.precision; 16-mixed needs a GPU)")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the model (trainer.compile)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def trainer_overrides(args: argparse.Namespace) -> dict:
    """The --accelerator/--devices/--num-nodes/--precision/--compile flags as trainer.* overrides."""
    flags = {"accelerator": args.accelerator, "devices": args.devices, "num_nodes": args.num_nodes,
             "precision": args.precision, "compile": args.compile}
    return {f"trainer.{k}": v for k, v in flags.items() if v is not None}


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set needs KEY=VALUE, got {item!r}")
        out[key.strip()] = load_yaml(value, f"--set {item}")
    return out


def run(args: argparse.Namespace) -> int:
    from facealign.train import load_train_config, train

    cfg = load_train_config(args.config, {**parse_overrides(args.set), **trainer_overrides(args)})
    res = train(cfg, resume=args.resume, verbose=not args.quiet)
    if res.history and "val_nme" in res.history[-1]:
        print(f"best validation NME {res.best_nme:.3f}% at epoch {res.best_epoch + 1}; models in {res.out_dir}")
    else:
        print(f"done; models in {res.out_dir}")
    return 0
