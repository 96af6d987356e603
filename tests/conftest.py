import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
if "FACEALIGN_CACHE" not in os.environ:  # never write into the user's home from tests
    import tempfile

    os.environ["FACEALIGN_CACHE"] = tempfile.mkdtemp(prefix="facealign-test-cache-")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEALIGN_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
FIXTURES = DATA / "fixtures" / "benchmark-samples"
OFFICIAL = FIXTURES / "official-layouts"
YTF = DATA / "ytf68"
ASTRONAUT = REPO / "facealign" / "assets" / "astronaut.jpg"


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """An untrained 64 px MobileNetV2 regression model file (fixed seed): for API and I/O tests."""
    import torch

    from facealign.models import create_model, save_model

    torch.manual_seed(0)
    p = tmp_path_factory.mktemp("small_model") / "small.safetensors"
    save_model(create_model("mobilenetv2", input_size=64).eval(), p)
    return p


@pytest.fixture(scope="session")
def ytf_val():
    from facealign.data import load_dataset

    return load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")


@pytest.fixture(scope="session")
def ytf_train():
    from facealign.data import load_dataset

    return load_dataset(f"csv:{YTF / 'train' / 'landmarks.csv'}")


def subset_csv(tmp_path, split: str, n: int, name: str | None = None) -> str:
    """A landmark CSV of the first ``n`` faces of a YTF-68 split (images stay in place)."""
    from facealign.data import load_dataset, write_landmark_csv

    ds = load_dataset(f"csv:{YTF / split / 'landmarks.csv'}")
    out = tmp_path / (name or f"{split}{n}.csv")
    write_landmark_csv(out, [s.key for s in ds.samples[:n]], ds.landmarks()[:n])
    return str(out)


def tiny_config(tmp_path, out: str = "run", **over):
    """A training config dict that runs in seconds: 64 px, 24 training faces, 16 val faces."""
    cfg = {
        "data": {"train": f"csv:{subset_csv(tmp_path, 'train', 24)}", "images": str(YTF / "train" / "images"),
                 "val": f"csv:{subset_csv(tmp_path, 'val', 16)}", "val_images": str(YTF / "val" / "images")},
        "model": {"backbone": "mobilenetv2_100", "input_size": 64},
        "loss": {"name": "acr"},
        "optim": {"lr": 0.001, "schedule": "cosine"},
        "epochs": 3, "batch_size": 8, "workers": 0, "threads": 1, "seed": 1, "out_dir": str(tmp_path / out),
        "log_every": 0,
    }
    for k, v in over.items():
        cur = cfg
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = v
    return cfg


@pytest.fixture(scope="session")
def fixture_wflw():
    """The WFLW test faces of the fixtures, in the official layout (never trained on)."""
    from facealign.data import load_dataset

    return load_dataset(f"wflw:{OFFICIAL / 'wflw'}", split="test")


def run_cli(*argv) -> tuple[int, str]:
    """``facealign ARGV`` in process: (exit code, everything it printed)."""
    import contextlib
    import io

    from facealign.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
        rc = main([str(a) for a in argv])
    return rc, err.getvalue()


def dead_pid() -> int:
    """The PID of a process that has ended (as a killed run's is)."""
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def rewrite_model_file(src, dest, edit_config=None, edit_state=None, edit_meta=None):
    """``src`` (a facealign .safetensors) written to ``dest`` with its config (a dict), weights (a
    dict of tensors) or metadata (a dict of strings) edited in place by the given functions."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(src), framework="pt") as f:
        meta = dict(f.metadata())
        state = {k: f.get_tensor(k) for k in f.keys()}
    cfg = json.loads(meta["config"])
    if edit_config:
        edit_config(cfg)
    if edit_state:
        edit_state(state)
    meta["config"] = json.dumps(cfg)
    if edit_meta:
        edit_meta(meta)
    save_file(state, str(dest), metadata=meta)
    return dest


@pytest.fixture
def file_server(tmp_path):
    """A file server on 127.0.0.1 that counts requests: (base URL, its folder, the paths asked for).
    ``/cut/NAME`` announces the whole file but sends half and closes; ``/gone/NAME`` closes
    before any body (downloads cut off)."""
    import http.server
    import threading

    root = tmp_path / "www"
    root.mkdir()
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

        def do_GET(self):
            hits.append(self.path)
            if not self.path.startswith(("/cut/", "/gone/")):
                return super().do_GET()
            data = (root / self.path.split("/")[-1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.path.startswith("/cut/"):
                self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, hits
    httpd.shutdown()
