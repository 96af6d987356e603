"""A wheel built from this tree (what `pip install .` or a published release installs) holds every
file the package reads at run time: the bundled weights and their ONNX files included."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


sys.path.insert(0, str(ROOT / "tools"))
from check_dist import missing_from_wheel  # noqa: E402 - the check .ci/run runs on built distributions


def test_wheel_holds_the_bundled_models_and_every_data_file(tmp_path):
    src = tmp_path / "src"  # build from a copy, so the build writes nothing into the checkout
    shutil.copytree(ROOT / "facealign", src / "facealign", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("facealign-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = missing_from_wheel(wheel)
    assert not missing, f"not in the wheel: {missing}"
    registry = json.loads(zipfile.ZipFile(wheel).read("facealign/zoo/models.json"))
    for entry in registry["models"]:
        for key in ("file", "onnx_file"):
            if entry.get(key):
                assert f"facealign/zoo/weights/{entry[key]}" in names, entry[key]
    assert registry["aliases"]["default"] in {m["name"] for m in registry["models"]}
    # the licence travels with the wheel, and the version users see is the one pyproject.toml states
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    meta = zipfile.ZipFile(wheel).read(f"facealign-{version}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in meta
    assert "facealign/zoo/weights/DATA_TERMS.md" in names


def test_the_version_comes_from_the_package_metadata():
    import tomllib
    from importlib.metadata import version

    import facealign

    assert facealign.__version__ == version("facealign")
    assert facealign.__version__ == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_base_install_predicts_without_torch(tmp_path):
    """The wheel installed into a fresh virtual environment without extras (what `pip install
    facealign` gives) runs `predict` on the bundled photo, and torch is not there to import."""
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("facealign-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # the base dependencies come from the package index, as for a user (pip's cache makes it quick)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheel)],
                         capture_output=True, text=True)
    if pip.returncode != 0 and any(s in pip.stderr for s in ("NewConnectionError", "Temporary failure in name resolution")):
        pytest.skip("the package index cannot be reached from here")
    assert pip.returncode == 0, pip.stderr[-2000:]
    photo = ROOT / "facealign" / "assets" / "astronaut.jpg"
    res = subprocess.run([str(venv / "bin" / "facealign"), "predict", str(photo), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(json.loads((tmp_path / "o" / "astronaut.json").read_text())["faces"]) == 1
    torch = subprocess.run([str(venv / "bin" / "python"), "-c", "import torch"], capture_output=True, text=True)
    assert torch.returncode != 0 and "No module named 'torch'" in torch.stderr
    train = subprocess.run([str(venv / "bin" / "facealign"), "train", "x.yaml"], capture_output=True, text=True, cwd=tmp_path)
    assert train.returncode == 2
    assert train.stderr.strip() == ("facealign train: this needs torch, which the base install leaves out: "
                                    "pip install 'facealign[train]'")
