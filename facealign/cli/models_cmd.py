"""``facealign models``: the named models."""

from __future__ import annotations

import argparse

from facealign.cli.common import console, say


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the named models (bundled, the authors' released ones, yours)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.zoo import list_models

    models = list_models()
    _print_own([e for e in models if e.released is None])
    _print_released([e for e in models if e.released is not None])
    return 0


def _print_own(models) -> None:
    from rich.table import Table

    from facealign.zoo import aliases

    alias_of: dict[str, list[str]] = {}
    for alias, name in aliases().items():
        alias_of.setdefault(name, []).append(alias)
    # descriptions are long: they follow the table as plain lines, so the table stays narrow
    t = Table(title="facealign models")
    for c in ("name", "alias", "where", "val NME %", "sha256"):
        t.add_column(c)
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


def _print_released(models) -> None:
    from rich.table import Table

    from facealign.zoo.released import cached_conversion

    t = Table(title="the authors' released models (downloaded and converted on first use)")
    for c in ("name", "pts", "px", "box", "NME %", "MB", "terms", "here"):
        t.add_column(c, justify="right" if c in ("pts", "px", "NME %", "MB") else "left")
    for e in models:
        c = e.released
        nme = c.published[-1].nme_pct if c.published else None  # the full test set's where subsets are listed too
        mb = f"{c.download_bytes / 1e6:.1f}" if c.size else f"~{c.download_bytes / 1e6:.0f}"
        t.add_row(c.name, str(c.num_points), str(c.input_size), c.box, f"{nme:.2f}" if nme is not None else "-",
                  mb, "BY-NC-ND" if c.kind == "acr" else "none", "cached" if cached_conversion(c) else "")
    console().print(t)
    say("NME %: the authors' published number (WFLW test, 300-W full, LaPa test, COFW test; 300W-LP models: "
        "AFLW2000-3D); '-' where none was published for that file. Per-subset numbers and the command that "
        "evaluates each model: docs/pretrained.md")
    say("terms: H3R states none (use your own download, do not redistribute); ACR is CC BY-NC-ND 4.0 "
        "(non-commercial, converted copies may not be shared). MB with ~: estimated, their repository states no size")
    say("offline: FACEALIGN_OFFLINE=1 never downloads; the error names the URL and the facealign import command")
