import hashlib
import http.server
import threading

import pytest
import torch

from facealign.errors import FaceAlignError
from facealign.models import create_model, save_model
from facealign.zoo import download, list_models, load_model, resolve, sha256_file


@pytest.fixture
def server(file_server):
    return file_server


def test_url_download_once_verified(server, tmp_path, monkeypatch):
    base, root, hits = server
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    model = create_model("mobilenetv2", input_size=64).eval()
    save_model(model, root / "m.safetensors")
    digest = sha256_file(root / "m.safetensors")
    loaded = load_model(f"{base}/m.safetensors#sha256={digest}")
    x = torch.rand(1, 3, 64, 64)
    torch.testing.assert_close(loaded(x), model(x))
    load_model(f"{base}/m.safetensors#sha256={digest}")
    assert hits == ["/m.safetensors"]  # second load came from the cache
    cached = list((tmp_path / "cache").iterdir())
    assert len(cached) == 1 and sha256_file(cached[0]) == digest


def test_checksum_mismatch_is_an_error_and_nothing_is_kept(server, tmp_path):
    base, root, _ = server
    (root / "m.bin").write_bytes(b"some bytes")
    bad = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(FaceAlignError, match="sha256 mismatch"):
        download(f"{base}/m.bin", bad, tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []
    with pytest.raises(FaceAlignError, match="needs its checksum"):
        resolve(f"{base}/m.bin")
    with pytest.raises(FaceAlignError, match="download failed"):
        download(f"{base}/missing.bin", bad, tmp_path / "c")


def test_cache_reused_only_when_digest_matches(server, tmp_path):
    base, root, hits = server
    (root / "f.bin").write_bytes(b"payload")
    d = hashlib.sha256(b"payload").hexdigest()
    p = download(f"{base}/f.bin", d, tmp_path / "c")
    p.write_bytes(b"tampered")  # a damaged cache entry is fetched again
    p2 = download(f"{base}/f.bin", d, tmp_path / "c")
    assert p2.read_bytes() == b"payload" and len(hits) == 2


def test_unknown_name():
    with pytest.raises(FaceAlignError, match="no such model file or name"):
        resolve("no-such-model")
    assert isinstance(list_models(), list)


def test_every_bundled_model_ships_its_onnx_file_made_from_its_weights(ytf_val):
    """The ONNX file next to each bundled model carries the weights' digest in its metadata and
    gives the same landmarks as the weights in PyTorch (within 0.01 px)."""
    import json

    import numpy as np
    import onnx

    from facealign.data.crop import model_crops
    from facealign.export.metadata import read_metadata
    from facealign.predict.runners import OnnxRunner, TorchRunner
    from facealign.zoo import REGISTRY, WEIGHTS

    entries = [e for e in json.loads(REGISTRY.read_text())["models"] if e.get("file")]
    assert entries
    for e in entries:
        onnx_path = WEIGHTS / e["onnx_file"]
        assert sha256_file(onnx_path) == e["onnx_sha256"]
        meta = read_metadata(onnx.load(str(onnx_path)))
        assert meta["source_sha256"] == sha256_file(WEIGHTS / e["file"]) == e["sha256"]
        torch_runner, onnx_runner = TorchRunner(e["name"]), OnnxRunner(onnx_path)
        crops, _ = model_crops(ytf_val.samples[:8], torch_runner.config)
        a, _ = torch_runner.predict_crops(crops)
        b, _ = onnx_runner.predict_crops(crops)
        assert np.abs(a - b).max() <= 0.01, e["name"]


def test_first_run_of_the_default_uses_the_bundled_onnx_without_torch_or_warnings(tmp_path):
    """A new user's first `facealign predict`: the default model's bundled ONNX file runs (nothing
    is exported into the cache), torch is never imported, and nothing but the summary is printed
    to stderr: no TracerWarnings, no deprecation notices."""
    import subprocess
    import sys

    from conftest import REPO

    photo = REPO / "facealign" / "assets" / "astronaut.jpg"
    code = ("import sys\nfrom facealign.cli.main import main\n"
            f"rc = main(['predict', {str(photo)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
            "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch was imported'\n")
    env = {**__import__("os").environ, "FACEALIGN_CACHE": str(tmp_path / "cache"), "PYTHONWARNINGS": "default"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Warning" not in res.stderr and "warn" not in res.stderr.lower(), res.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.onnx"))
    assert (tmp_path / "out" / "astronaut.json").is_file()
    assert "start-up" in res.stdout and "time per image" in res.stdout


@pytest.fixture
def endless_server():
    """A server on 127.0.0.1: /endless streams zeros without a length; /huge announces 1 TB."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            if self.path == "/huge":
                self.send_header("Content-Length", str(10**12))
            self.end_headers()
            try:
                for _ in range(100_000):  # 6.5 GB at most, should the client never stop
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_size_is_capped(endless_server, tmp_path):
    with pytest.raises(FaceAlignError, match=r"endless: download stopped: more than the 1048576-byte limit"):
        download(f"{endless_server}/endless", "0" * 64, tmp_path, max_bytes=1 << 20)
    with pytest.raises(FaceAlignError, match=r"huge: the server announces 1000000000000 bytes, over the"):
        download(f"{endless_server}/huge", "0" * 64, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_interrupted_leaves_no_partial_file(endless_server, tmp_path, monkeypatch):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".{'0' * 16}-endless.part{dead.pid}"  # left by a killed run (utils.io.part_path's name)
    stale.write_bytes(b"x" * 100)

    def ctrl_c(done, total):
        if done > 200_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(f"{endless_server}/endless", "0" * 64, tmp_path, progress=ctrl_c)
    assert list(tmp_path.iterdir()) == []


def test_models_lists_each_alias_beside_its_model_with_its_val_nme(capsys):
    from facealign.cli.main import main
    from facealign.zoo import aliases

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    target = aliases()["default"]
    row = next(line for line in out.splitlines() if f" {target} " in line)
    assert " default " in row
    nme = next(e for e in list_models() if e.name == target).metrics["nme_inter_ocular_pct"]
    assert f" {nme:.2f} " in row and "val NME %: inter-ocular NME" in out
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert max(len(line) for line in table) < 100  # descriptions follow the table as plain lines
    assert f"{target}: " in out
