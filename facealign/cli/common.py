"""Argument groups and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse

from facealign.data import FORMATS, LandmarkSet, load_dataset
from facealign.utils.progress import console, progress_bar, say

__all__ = ["add_data_args", "load_data_from_args", "at_least", "console", "progress_bar", "say"]


def add_data_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", required=required, metavar="FORMAT:PATH",
                   help=f"data set, FORMAT one of {', '.join(FORMATS)} (e.g. csv:ytf68/val/landmarks.csv)")
    p.add_argument("--split", help="split where the format has them (wflw: train/test; 300w: train/common/"
                                   "challenging/full/private; lapa: train/val/test; cofw: train/test)")
    p.add_argument("--images", help="image folder, overriding the format's default location")
    p.add_argument("--scheme", help="landmark scheme name or .yaml/.json file (default: from the format)")


def load_data_from_args(args: argparse.Namespace) -> LandmarkSet:
    return load_dataset(args.data, split=args.split, images=args.images, scheme=args.scheme)


def at_least(minimum: float, kind: type = int, maximum: float | None = None):
    """An argparse ``type`` accepting a number (``int`` or ``float``) >= ``minimum`` (and <=
    ``maximum`` when given), with the reason in the one-line error otherwise."""
    name = "an integer" if kind is int else "a number"
    rule = f">= {minimum:g}" if maximum is None else f"in [{minimum:g}, {maximum:g}]"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {name} {rule}, got {text!r}") from None
        if not (value >= minimum) or (kind is float and value == float("inf")) or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {name} {rule}, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse
