"""The package map of docs/architecture.md, enforced: every import inside facealign (top-level,
in functions, under TYPE_CHECKING) runs downward, and no two sub-packages import each other."""

import ast
from pathlib import Path

import pytest
from conftest import REPO

PKG = REPO / "facealign"

# Bottom to top. A part may import parts of lower layers and itself, nothing at its own layer or above.
LAYERS = [
    {"errors", "constants"},
    {"utils"},
    {"schemes"},
    {"data"},
    {"align", "pose"},
    {"codecs"},
    {"shape"},
    {"losses", "metrics"},
    {"models"},
    {"convert"},  # the zoo converts the authors' released files on first use
    {"zoo"},
    {"detect"},
    {"export"},  # int8 calibration cuts faces as the detector frames them
    {"predict"},
    {"serve", "distributed"},
    {"train"},
    {"cli"},
    {"__main__"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def part_of(module: str) -> str | None:
    """'facealign.codecs.heatmap' -> 'codecs'; the package facade 'facealign' -> None."""
    bits = module.split(".")
    return bits[1] if bits[0] == "facealign" and len(bits) > 1 else None


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every facealign import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    is_pkg = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_pkg else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Dict):  # lazy-export tables: {"Name": "facealign.x.y"}
            found += [(node.lineno, v.value) for v in node.values
                      if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.startswith("facealign.")]
    return [(line, m) for line, m in found if m == "facealign" or m.startswith("facealign.")]


def all_edges():
    edges = []
    for path in sorted(PKG.rglob("*.py")):
        src = part_of(module_name(path))
        if src is None:
            continue  # the facade facealign/__init__.py re-exports from the top (lazily)
        for line, mod in imports_of(path):
            dst = part_of(mod)
            if dst is not None and dst != src:
                edges.append((path.relative_to(REPO), line, src, dst))
    return edges


def test_every_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PKG.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")}
    assert parts == set(RANK), f"add new parts to LAYERS and docs/architecture.md: {sorted(parts ^ set(RANK))}"


def test_imports_run_downward():
    upward = [f"{path}:{line}: {src} imports {dst}" for path, line, src, dst in all_edges() if RANK[dst] >= RANK[src]]
    assert not upward, "imports that run upward or sideways:\n" + "\n".join(upward)


def test_no_two_parts_import_each_other():
    pairs = {(src, dst) for _, _, src, dst in all_edges()}
    assert not [(a, b) for a, b in pairs if (b, a) in pairs]


@pytest.mark.parametrize("snippet,expected", [
    ("from facealign.models.config import X", "models"),
    ("import facealign.zoo", "zoo"),
    ("from . import heatmap", "codecs"),
    ("from ..data import crop", "data"),
])
def test_the_checker_sees_every_import_form(tmp_path, snippet, expected, monkeypatch):
    import test_architecture as me

    pkg = tmp_path / "facealign" / "codecs"
    pkg.mkdir(parents=True)
    f = pkg / "probe.py"
    f.write_text(f"def f():\n    {snippet}\n")
    monkeypatch.setattr(me, "REPO", tmp_path)
    assert [part_of(m) for _, m in me.imports_of(f)] == [expected]
