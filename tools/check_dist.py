"""Check built distributions: every file the package reads at run time is in the wheel and the
sdist, with the licence and the bundled weights' data terms.

Usage: python tools/check_dist.py DIST_FOLDER   (after `python -m build --outdir DIST_FOLDER`)
Exit code 0 when both hold everything, 1 with one line per missing file otherwise.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_data_files() -> set[str]:
    """Every file under facealign/ that is not Python source or a cache, as archive member names."""
    pkg = ROOT / "facealign"
    return {p.relative_to(ROOT).as_posix() for p in pkg.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def missing_from_wheel(wheel: Path) -> list[str]:
    names = set(zipfile.ZipFile(wheel).namelist())
    version = wheel.name.split("-")[1]
    want = package_data_files() | {f"facealign-{version}.dist-info/licenses/LICENSE"}
    return sorted(want - names)


def missing_from_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as tar:
        top = sdist.name[:-len(".tar.gz")]
        names = {n[len(top) + 1:] for n in tar.getnames()}
    return sorted((package_data_files() | {"LICENSE", "README.md", "pyproject.toml"}) - names)


def main(folder: str) -> int:
    dist = Path(folder)
    wheels, sdists = sorted(dist.glob("facealign-*.whl")), sorted(dist.glob("facealign-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"{dist}: expected one wheel and one sdist, found {[p.name for p in wheels + sdists]}")
        return 1
    problems = [f"{wheels[0].name}: missing {m}" for m in missing_from_wheel(wheels[0])]
    problems += [f"{sdists[0].name}: missing {m}" for m in missing_from_sdist(sdists[0])]
    for p in problems:
        print(p)
    if not problems:
        print(f"{wheels[0].name} and {sdists[0].name} hold every package data file and the licence")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
