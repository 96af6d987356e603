import hashlib
import http.server
import threading

import pytest
import torch

from facealign.errors import FaceAlignError
from facealign.models import create_model, save_model
from facealign.zoo import download, list_models, load_model, resolve, sha256_file


@pytest.fixture
def server(tmp_path):
    """A file server on 127.0.0.1 that counts requests."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, hits
    httpd.shutdown()


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
