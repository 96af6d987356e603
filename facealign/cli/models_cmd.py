"""``facealign models``: the named models."""

from __future__ import annotations

import argparse

from facealign.cli.common import console


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the named models (bundled or downloadable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from facealign.zoo import list_models

    t = Table(title="facealign models")
    for c in ("name", "where", "sha256", "description"):
        t.add_column(c)
    for e in list_models():
        t.add_row(e.name, "bundled" if e.file else ("user: " + e.path) if e.path else (e.url or ""), e.sha256[:12],
                  e.description)
    console().print(t)
    return 0
