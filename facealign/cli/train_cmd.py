"""``facealign train CONFIG.yaml``."""

from __future__ import annotations

import argparse

import yaml

from facealign.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a YAML config",
                       description="Train a model. Distributed: torchrun --nproc_per_node N -m facealign train CONFIG")
    p.add_argument("config", help="training config (.yaml), see configs/")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last.ckpt")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.lr=0.0005 --set epochs=5 (YAML values)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set needs KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def run(args: argparse.Namespace) -> int:
    from facealign.train import load_train_config, train

    cfg = load_train_config(args.config, parse_overrides(args.set))
    res = train(cfg, resume=args.resume, verbose=not args.quiet)
    if res.history and "val_nme" in res.history[-1]:
        print(f"best validation NME {res.best_nme:.3f}% at epoch {res.best_epoch + 1}; models in {res.out_dir}")
    else:
        print(f"done; models in {res.out_dir}")
    return 0
