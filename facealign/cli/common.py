"""Argument groups and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse

from facealign.data import FORMATS, LandmarkSet, load_dataset
from facealign.utils.progress import console, progress_bar, say

__all__ = ["add_data_args", "load_data_from_args", "add_aligner_args", "aligner_options", "at_least", "console",
           "progress_bar", "say"]


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


def add_aligner_args(p: argparse.ArgumentParser, boxes: bool = False) -> None:
    """The flags of :class:`~facealign.predict.options.AlignerOptions`, the same in every command
    that runs an aligner (predict, crop, serve); :func:`aligner_options` reads them back."""
    p.add_argument("--model", default="default", help="model name (see 'facealign models'), file or URL#sha256=...")
    p.add_argument("--detector", default="auto",
                   help="auto (yunet when installed, else dlib, else cascade), yunet, dlib, cascade "
                        "or full (the image is the face)")
    p.add_argument("--min-face", type=at_least(4, float), default=20.0,
                   help="smallest face searched, in the image's pixels (default 20; very large images "
                        "may raise it, see docs/detection.md)")
    p.add_argument("--max-face", type=at_least(4, float), help="largest face searched, in pixels (default: the image size)")
    p.add_argument("--rolled", action="store_true",
                   help="also search the image turned by 45 and 90 degrees either way (faces rolled "
                        "that far beside upright ones)")
    p.add_argument("--refine", type=at_least(0, int, 10), default=1,
                   help="re-crop passes around the predicted landmarks (default 1)")
    p.add_argument("--refine-tolerance", type=at_least(0.0, float, 1.0),
                   help="a refine pass re-runs only faces whose landmark box moved by more than this fraction "
                        "of its side from the box they were cut from (default 0.05 behind yunet, 0 = every "
                        "face behind dlib and the cascade)")
    p.add_argument("--flip", action="store_true", help="flip test-time augmentation")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"],
                   help="landmark-stage engine; auto: ONNX Runtime when installed (faster), else PyTorch")
    p.add_argument("--threads", type=at_least(1, int, 256), help="threads of the landmark stage")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "int8"],
                   help="landmark model: auto (default: the model's bundled int8 file on CPUs with int8 dot "
                        "products, AVX-512 VNNI, where it is faster; fp32 elsewhere), fp32 or int8")
    if boxes:
        p.add_argument("--boxes", help="face boxes instead of detection: JSON {image: [[x1,y1,x2,y2],...]} or CSV "
                                       "file,x1,y1,x2,y2")


def aligner_options(args: argparse.Namespace):
    """The :class:`~facealign.predict.options.AlignerOptions` of :func:`add_aligner_args`' flags."""
    from facealign.predict.options import AlignerOptions

    return AlignerOptions(model=args.model, detector=getattr(args, "boxes", None) or args.detector,
                          min_face=args.min_face, max_face=args.max_face, rolled=args.rolled, refine=args.refine,
                          refine_tolerance=args.refine_tolerance, flip=args.flip or None, backend=args.backend,
                          threads=args.threads, precision=args.precision)
