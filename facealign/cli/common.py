"""Argument groups and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator

from facealign.data import FORMATS, LandmarkSet, load_dataset


def add_data_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", required=required, metavar="FORMAT:PATH",
                   help=f"data set, FORMAT one of {', '.join(FORMATS)} (e.g. csv:ytf68/val/landmarks.csv)")
    p.add_argument("--split", help="split where the format has them (wflw: train/test; 300w: train/common/"
                                   "challenging/full/private; lapa: train/val/test; cofw: train/test)")
    p.add_argument("--images", help="image folder, overriding the format's default location")
    p.add_argument("--scheme", help="landmark scheme name or .yaml/.json file (default: from the format)")


def load_data_from_args(args: argparse.Namespace) -> LandmarkSet:
    return load_dataset(args.data, split=args.split, images=args.images, scheme=args.scheme)


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@contextlib.contextmanager
def progress_bar(label: str, total: int, quiet: bool = False) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr (silent when ``quiet`` or stderr is not a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console(stderr=True), transient=True) as prog:
        task = prog.add_task(label, total=total)
        yield lambda: prog.advance(task)
