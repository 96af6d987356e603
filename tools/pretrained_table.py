"""Write docs/pretrained.md's table of the authors' released models from the one table of them
(facealign/convert/released.json): name, file, published NME and the command that evaluates it.

Usage: python tools/pretrained_table.py [--check]
  --check: exit 1 (and say so) when the docs' table differs from the one this would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from facealign.convert.released import ReleasedCheckpoint, released_checkpoints

DOC = Path(__file__).resolve().parents[1] / "docs" / "pretrained.md"
START, END = "<!-- released table: tools/pretrained_table.py writes it -->", "<!-- end of released table -->"

# The official test data each model is scored on, as `facealign evaluate --data ... --split ...`.
TEST_DATA = {
    "wflw": "--data wflw:data/WFLW --split test",
    "300w": "--data 300w:data/300W --split full",
    "lapa": "--data lapa:data/LaPa --split test",
    "cofw": "--data cofw:data/COFW --split test",
}


def command(c: ReleasedCheckpoint) -> str:
    if c.trained_on == "300WLP":
        return "AFLW2000-3D: facealign has no reader for its `.mat` files yet"
    return f"`facealign evaluate --model {c.name} {TEST_DATA[c.scheme]}`"


def published(c: ReleasedCheckpoint) -> str:
    if not c.published:
        return "-"
    return "; ".join(f"{p.nme_pct:.2f} ({p.test}{', box-normalised' if p.normalizer == 'bbox' else ''})" for p in c.published)


def table() -> str:
    rows = ["| name | the authors' file | pts, px, box | published NME % | evaluate on the official test data |",
            "|---|---|---|---|---|"]
    for c in released_checkpoints().values():
        repo = "baoshengyu/H3R" if c.kind == "h3r" else "aliprf/ACR-Loss"
        shape = f"{c.num_points}, {c.input_size}, {c.box}"
        rows.append(f"| `{c.name}` | {repo} `{c.repo_path}` | {shape} | {published(c)} | {command(c)} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    new = f"{head}{START}\n{table()}\n{END}{tail}"
    if "--check" in argv:
        if new != text:
            print(f"{DOC}: the released table is out of date: run python tools/pretrained_table.py")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
