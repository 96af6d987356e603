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
    # descriptions are long: they follow the table as plain lines, so the table stays narrow
    t = Table(title="facealign models")
    for c in ("name", "alias", "where", "val NME %", "sha256"):
        t.add_column(c)
    models = list_models()
    for e in models:
        nme = e.metrics.get("nme_inter_ocular_pct")
        t.add_row(e.name, ", ".join(alias_of.get(e.name, [])),
                  "bundled" if e.file else ("user: " + e.path) if e.path else (e.url or ""),
                  f"{nme:.2f}" if isinstance(nme, (int, float)) else "", e.sha256[:12])
    console().print(t)
    say("val NME %: inter-ocular NME on the validation data of each model's metrics (bundled models: YTF-68 val, landmark boxes)")
    for e in models:
        if e.description:
            say(f"{e.name}: {e.description}")
    return 0
