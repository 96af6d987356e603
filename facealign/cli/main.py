"""Entry point: ``facealign <command>``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from facealign import __version__
from facealign.errors import FaceAlignError


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line (``facealign predict: error: argument --batch: must be ...``)
    like every other error, not a usage block; ``-h`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


# Modules of the optional extras (pyproject.toml), for the one line that says which to install.
_EXTRA_OF = {**dict.fromkeys(("torch", "torchvision", "timm", "lightning_fabric", "scipy", "h5py", "matplotlib", "onnx"),
                             "train"),
             **dict.fromkeys(("fastapi", "uvicorn", "multipart", "starlette"), "serve"), "ray": "ray", "dlib": "dlib",
             "av": "video"}


def build_parser() -> argparse.ArgumentParser:
    from facealign.cli import (
        crop_cmd,
        data_cmd,
        evaluate_cmd,
        export_cmd,
        import_cmd,
        models_cmd,
        pca_cmd,
        predict_cmd,
        serve_cmd,
        train_cmd,
    )

    parser = _Parser(
        prog="facealign",
        description="Facial landmark detection: train, evaluate and run face-alignment models.",
    )
    parser.add_argument("--version", action="version", version=f"facealign {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (predict_cmd, crop_cmd, serve_cmd, evaluate_cmd, train_cmd, export_cmd, import_cmd, data_cmd, pca_cmd,
                   models_cmd):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # -h, --version, or a usage error already printed in one line
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except FaceAlignError as e:
        print(f"facealign: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        extra = _EXTRA_OF.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"facealign {args.command}: this needs {e.name}, which the base install leaves out: "
              f"pip install 'facealign[{extra}]'", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`facealign models | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 141
    except OSError as e:  # the system's refusal (no permission, a full disk, a name too long): one line naming the file
        where = f"{e.filename}: " if e.filename else ""
        print(f"facealign: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facealign: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
