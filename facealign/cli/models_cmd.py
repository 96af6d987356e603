"""``facealign models``: the named models."""

from __future__ import annotations

import argparse

from facealign.cli.common import console, say


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the named models (bundled or downloadable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from facealign.zoo import aliases, list_models

    alias_of: dict[str, list[str]] = {}
    for alias, name in aliases().items():
        alias_of.setdefault(name, []).append(alias)
    t = Table(title="facealign models")
    for c in ("name", "alias", "where", "val NME %", "sha256", "description"):
        t.add_column(c)
    for e in list_models():
        nme = e.metrics.get("nme_inter_ocular_pct")
        t.add_row(e.name, ", ".join(alias_of.get(e.name, [])),
                  "bundled" if e.file else ("user: " + e.path) if e.path else (e.url or ""),
                  f"{nme:.2f}" if isinstance(nme, (int, float)) else "", e.sha256[:12], e.description)
    console().print(t)
    say("val NME %: inter-ocular NME on the validation data of each model's metrics (bundled models: YTF-68 val, landmark boxes)")
    return 0
