"""The HTTP service on a real uvicorn server on 127.0.0.1, its page in a real headless Chromium,
and the micro-batcher."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import ASTRONAUT, REPO

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(tmp_path_factory, *extra: str):
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "facealign", "serve", "--port", str(port), *extra], cwd=REPO,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text()}")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"server did not start: {log.read_text()}")
    return proc, base


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, base = _start_server(tmp_path_factory, "--max-upload-mb", "1", "--max-pixels", "4000000")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def post(url: str, body: bytes, ctype: str | None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method="POST")
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def multipart(files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = b""
    for field, name, data in files:
        parts += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
                  "Content-Type: image/jpeg\r\n\r\n").encode() + data + b"\r\n"
    return parts + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def expected():
    """What `facealign predict` gives for the bundled photo (same default pipeline)."""
    from facealign.predict import FaceAligner

    return FaceAligner().predict(str(ASTRONAUT)).to_json()


def _same_faces(got: dict, want: dict) -> None:
    assert len(got["faces"]) == len(want["faces"]) >= 1
    for g, w in zip(got["faces"], want["faces"]):
        np.testing.assert_allclose(g["landmarks"], w["landmarks"], atol=2e-3)
        np.testing.assert_allclose(g["box"], w["box"], atol=1e-2)
        assert g["pose"]["yaw"] == pytest.approx(w["pose"]["yaw"], abs=0.05)


def test_raw_and_multipart_uploads_give_what_predict_gives(server, expected):
    data = ASTRONAUT.read_bytes()
    code, raw = post(server + "/v1/landmarks", data, "image/jpeg")
    assert code == 200
    _same_faces(raw, expected)
    body, ctype = multipart([("image", "astronaut.jpg", data)])
    code, form = post(server + "/v1/landmarks", body, ctype)
    assert code == 200 and form["image"] == "astronaut.jpg"
    _same_faces(form, expected)


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(buf, "PNG")
    return buf.getvalue()


BAD = {
    "wrong content type": (b"hello", "text/plain", 415, "content type 'text/plain' is not accepted"),
    "no content type": (b"hello", None, 415, "is not accepted"),
    "empty body": (b"", "image/png", 400, "empty request body"),
    "not an image": (b"hello, world" * 10, "image/png", 400, "not a readable image"),
    "truncated jpeg": (ASTRONAUT.read_bytes()[:300], "image/jpeg", 400, "not a readable image"),
    "image over the pixel limit": (_png(2500, 2000), "image/png", 413, "2500x2000 pixels, over the limit of 4000000"),
    "two files in one form": (*multipart([("a", "a.jpg", b"x"), ("b", "b.jpg", b"y")]), 400,
                              "exactly one file field, got 2"),
    "malformed multipart": (b"--nope\r\ngarbage", "multipart/form-data; boundary=xyz", 400, "malformed multipart/form-data body"),
    "a 10 x 30000 PNG (under 1 KB)": (_png(10, 30000), "image/png", 413, "more than 50 times longer than wide"),
    "a Radiance .hdr (its size is not in a header Pillow reads)": (
        b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 20000 +X 20000\n" + b"\x00" * 64, "image/vnd.radiance", 400,
        "not a readable image"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_uploads_get_a_4xx_naming_the_cause(server, name):
    body, ctype, status, message = BAD[name]
    code, reply = post(server + "/v1/landmarks", body, ctype)
    assert code == status and message in reply["error"]
    with urllib.request.urlopen(server + "/healthz", timeout=5) as r:  # the service stays up
        assert json.loads(r.read())["status"] == "ok"


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(server):
    """A client that announces 1 MB + 10 bytes and waits for "100 Continue" (as curl does for big
    uploads) gets 413 at once and never sends the body. (A client that sends regardless may see
    its connection closed mid-upload: the server does not read what it will refuse.)"""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.putrequest("POST", "/v1/landmarks")
    conn.putheader("Content-Type", "image/jpeg")
    conn.putheader("Content-Length", str(1024 * 1024 + 10))
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413 and "over the limit of 1048576 bytes" in json.loads(resp.read())["error"]
    conn.close()
    with urllib.request.urlopen(server + "/healthz", timeout=5) as r:
        assert json.loads(r.read())["status"] == "ok"


def test_concurrent_requests_all_answer_the_same(server, expected):
    data = ASTRONAUT.read_bytes()
    results: list = [None] * 8

    def call(i):
        results[i] = post(server + "/v1/landmarks", data, "image/jpeg")

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for code, reply in results:
        assert code == 200
        _same_faces(reply, expected)


def test_the_page_draws_the_landmarks_in_a_real_browser(server, expected, tmp_path):
    """Debian's chromium and chromedriver (apt-get install chromium chromium-driver), headless."""
    browser, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver_bin:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        drv.get(server + "/")
        # the photo picker (a label) looks like the webcam button beside it
        look = "const s = getComputedStyle(arguments[0]); return [s.backgroundColor, s.borderTopStyle, s.borderTopWidth, s.cursor];"
        assert (drv.execute_script(look, drv.find_element(By.ID, "choose"))
                == drv.execute_script(look, drv.find_element(By.ID, "camera")))
        drv.find_element(By.ID, "file").send_keys(str(ASTRONAUT))
        WebDriverWait(drv, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state")
                                     in ("done", "error"))
        status = drv.find_element(By.ID, "status").text
        assert drv.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "done", status
        shown = json.loads(drv.find_element(By.ID, "result").get_attribute("textContent"))
        _same_faces(shown, expected)
        assert shown["image"] == "astronaut.jpg" and "1 face(s), 68 points each" in status
        size = drv.execute_script("const c = document.getElementById('canvas'); return [c.width, c.height];")
        assert size == [shown["width"], shown["height"]]
        # the drawing: the canvas holds the photo with points on it (not blank)
        painted = drv.execute_script(
            "const c = document.getElementById('canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            "let n = 0; for (let i = 0; i < d.length; i += 4) { if (d[i] === 0 && d[i + 1] === 224 && d[i + 2] === 255) n++; }"
            "return n;")
        assert painted > 68  # pixels in the points' colour
        assert drv.find_element(By.ID, "download").get_attribute("href").startswith("blob:")
    finally:
        drv.quit()


# ---- the micro-batcher, in process -------------------------------------------------------------
class _CountingAligner:
    """A real FaceAligner whose landmark stage counts its calls."""

    def __init__(self):
        from facealign.predict import FaceAligner

        self.inner = FaceAligner()
        self.scheme = self.inner.scheme
        self.calls = []

    def align(self, images, boxes, rolls=None):
        self.calls.append(len(images))
        return self.inner.align(images, boxes, rolls=rolls)


@pytest.mark.parametrize("enabled,passes", [(True, 1), (False, 4)])
def test_requests_that_arrive_together_share_one_landmark_pass(enabled, passes):
    from facealign.data import read_image
    from facealign.serve.batcher import MicroBatcher

    al = _CountingAligner()
    img = read_image(ASTRONAUT)
    det = al.inner.detect(img)
    boxes, rolls = al.inner.frame_faces(det)
    alone = al.inner.align([img], [boxes], rolls=[rolls])[0]

    async def run():
        b = MicroBatcher(al, max_batch=64, max_wait_ms=20, enabled=enabled)
        await b.start()
        try:
            return await asyncio.gather(*[b.landmarks(img, boxes, rolls) for _ in range(4)])
        finally:
            await b.stop()

    out = asyncio.run(run())
    assert al.calls == ([4] if enabled else [1, 1, 1, 1]) and len(al.calls) == passes
    for lm, _ in out:
        np.testing.assert_allclose(lm, alone[0], atol=1e-4)


def test_serve_without_its_extra_says_how_to_install(monkeypatch, capsys):
    import builtins

    from facealign.cli.main import main

    real = builtins.__import__

    def no_uvicorn(name, *a, **k):
        if name == "uvicorn":
            raise ImportError("no uvicorn", name="uvicorn")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_uvicorn)
    assert main(["serve"]) == 2
    assert "pip install 'facealign[serve]' (uvicorn is missing)" in capsys.readouterr().err
    assert os.environ.get("FACEALIGN_NEVER_SET") is None


# ---- dataset scale on Ray ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance with 2 CPUs for this module's Ray tests (starting one takes seconds)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray
    ray.shutdown()


def test_ray_shards_match_predict_and_resume(tmp_path, capfd, local_ray):
    """A local Ray instance with 2 CPUs: 8 val images in shards of 3 give what FaceAligner gives;
    a deleted shard is the only one a re-run writes."""
    from conftest import YTF

    from facealign.cli.main import main
    from facealign.predict import FaceAligner

    paths = sorted(str(p) for p in (YTF / "val" / "images").glob("*.jpg"))[:8]
    manifest = tmp_path / "images.txt"
    manifest.write_text("\n".join(paths) + "\n")
    out = tmp_path / "shards"
    capfd.readouterr()  # what the fixture's ray.init printed
    args = ["predict", str(manifest), "--engine", "ray", "--out", str(out), "--shard-size", "3", "--actors", "2",
            "--batch", "2"]
    assert main(args) == 0
    err = capfd.readouterr().err  # file descriptor 2 included: Ray's C++ core writes there
    assert "core_worker" not in err and "WARNING" not in err, err
    assert err.strip().splitlines()[-1].startswith("ray: 8 images in 3 shards"), err
    assert sorted(p.name for p in out.glob("shard-*")) == ["shard-00000.jsonl", "shard-00001.jsonl", "shard-00002.jsonl"]
    # precision "auto" is decided once, by the driver's CPU, and recorded with the file it runs
    from facealign.distributed.ray_predict import RUN_FILE
    from facealign.zoo import resolve_onnx, sha256_file

    record = json.loads((out / RUN_FILE).read_text())
    ran = FaceAligner().precision
    assert record["options"]["precision"] == ran
    assert record["model_sha256"] == sha256_file(resolve_onnx("default", int8=ran == "int8"))
    recs = [json.loads(x) for f in sorted(out.glob("shard-*")) for x in f.read_text().splitlines()]
    assert [r["image"] for r in recs] == paths
    local = FaceAligner().predict(paths)
    for r, want in zip(recs, local):
        np.testing.assert_allclose(r["faces"][0]["landmarks"], want.to_json()["faces"][0]["landmarks"], atol=2e-3)
    (out / "shard-00001.jsonl").unlink()
    capfd.readouterr()
    assert main(args) == 0
    assert "3 shards; 1 written, 2 skipped (done before)" in capfd.readouterr().err
    assert len((out / "shard-00001.jsonl").read_text().splitlines()) == 3
    # another model into the same shards: refused in one line, the old shards kept (checked before Ray runs)
    (out / "shard-00001.jsonl").unlink()
    assert main(args + ["--model", "ytf68-mnv2x050-96"]) == 2
    assert "its shards were written with another model" in capfd.readouterr().err
    assert not (out / "shard-00001.jsonl").exists()


def test_a_streamed_body_is_cut_off_at_the_limit():
    """No Content-Length (chunked): the app stops reading at the limit and answers 413. Driven
    through the ASGI interface in process: over TCP the client may see the close before the
    answer, which would make the test depend on timing."""
    from facealign.serve import ServeConfig, create_app

    class NoModel:  # the limit is enforced before any model work
        scheme = None

    app = create_app(ServeConfig(max_upload_bytes=1000), aligner=NoModel())
    chunks = [b"\xff" * 400] * 10
    sent, reads = [], [0]

    async def receive():
        reads[0] += 1
        body = chunks[reads[0] - 1] if reads[0] <= len(chunks) else b""
        return {"type": "http.request", "body": body, "more_body": reads[0] < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/landmarks", "raw_path": b"/v1/landmarks", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"image/jpeg"), (b"transfer-encoding", b"chunked")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413 and "upload is over the limit of 1000 bytes" in json.loads(body)["error"]
    assert reads[0] == 3  # 1200 bytes read of the 4000 sent, then it stopped


# ---- a server under bad and slow clients (docs/serve.md) ------------------------------------------
@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    proc, base = _start_server(tmp_path_factory, "--body-timeout", "1", "--max-inflight", "2",
                               "--allow-origin", "https://ok.example")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def _post_with(base: str, headers: dict[str, str]) -> tuple[int, dict]:
    req = urllib.request.Request(base + "/v1/landmarks", data=ASTRONAUT.read_bytes(), method="POST",
                                 headers={"Content-Type": "image/jpeg", **headers})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("headers,status,message", [
    ({"Origin": "https://evil.example"}, 403, "cross-site request from 'https://evil.example' refused"),
    ({"Origin": "https://ok.example"}, 200, None),
    ({"Host": "rebound.example"}, 403, "Host 'rebound.example' is not this server's"),
    ({"Host": "["}, 403, "Host '[' is not this server's"),
    ({}, 200, None),
], ids=["another site's page", "an allowed origin", "a rebound host name", "a Host that is no name",
        "no origin (curl, scripts)"])
def test_cross_site_requests_are_refused(guarded, headers, status, message):
    code, reply = _post_with(guarded, headers)
    assert code == status, reply
    assert message is None or message in reply["error"]


def _slow_upload(base: str) -> socket.socket:
    """A connection that announces 100 kB and sends 10 bytes of it."""
    from urllib.parse import urlsplit

    u = urlsplit(base)
    s = socket.create_connection((u.hostname, u.port), timeout=30)
    s.sendall(b"POST /v1/landmarks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
              b"Content-Length: 100000\r\n\r\n" + b"\xff" * 10)
    return s


def _status_of(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    return int(data.split(b" ", 2)[1]) if data else 0


def test_slow_uploads_time_out_and_a_full_server_says_busy(guarded):
    slow = [_slow_upload(guarded) for _ in range(2)]  # they hold both admitted places
    time.sleep(0.3)
    code, reply = _post_with(guarded, {})
    assert code == 503 and "busy: 2 requests in progress" in reply["error"]
    assert [_status_of(s) for s in slow] == [408, 408]  # the body deadline (1 s) frees them
    assert _post_with(guarded, {})[0] == 200


def test_a_large_image_is_searched_in_the_lane_process_with_the_same_result(guarded):
    """An image over 4 megapixels goes to the large-image process (YuNet holds the GIL while it
    runs; there it holds another process's) and gets what FaceAligner gives in process."""
    from PIL import Image

    from facealign.predict import FaceAligner

    big = np.asarray(Image.open(ASTRONAUT).resize((2400, 2400)))
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, "PNG")
    code, reply = post(guarded + "/v1/landmarks", buf.getvalue(), "image/png")
    assert code == 200, reply
    _same_faces(reply, FaceAligner().predict(big).to_json())


def test_a_request_not_answered_in_time_gets_504(tmp_path_factory):
    from PIL import Image

    proc, base = _start_server(tmp_path_factory, "--request-timeout", "0.01")
    try:
        buf = io.BytesIO()
        Image.open(ASTRONAUT).resize((4000, 3000)).save(buf, "JPEG")  # decoding alone takes longer than 10 ms
        code, reply = post(base + "/v1/landmarks", buf.getvalue(), "image/jpeg")
        assert code == 504 and "no answer within 0.01 s" in reply["error"]
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            assert json.loads(r.read())["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# ---- every predict flag is honoured by --engine ray, or refused there --------------------------
RAY_ONLY_OR_SHARED = {"paths", "out", "recursive", "skip_existing", "overwrite", "batch", "engine", "address", "actors",
                      "verbose", "shard_size", "shard_format", "gpus_per_actor", "boxes", "func"}


def test_every_predict_flag_is_honoured_by_ray_or_refused_there(tmp_path, capfd, local_ray):
    """Each of predict's flags is an aligner option (passed whole to the actors), a flag of the Ray
    run itself, or refused with one line; the aligner options give the same landmarks on Ray as
    locally (one Ray run with every search and alignment flag set, one with a boxes file)."""
    from conftest import YTF

    from facealign.cli.main import build_parser, main
    from facealign.cli.predict_cmd import RAY_REFUSES
    from facealign.predict.options import AlignerOptions

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["predict"]
    dests = {a.dest for a in sub._actions if a.dest != "help"}
    aligner = {f for f in AlignerOptions.__dataclass_fields__} - {"device", "upright"}
    refused = {dest for _, dest, _ in RAY_REFUSES}
    assert dests == aligner | refused | (RAY_ONLY_OR_SHARED & dests), sorted(dests ^ (aligner | refused | RAY_ONLY_OR_SHARED))

    paths = sorted(str(p) for p in (YTF / "val" / "images").glob("*.jpg"))[:3]
    for flag, dest, default in RAY_REFUSES:
        value = [] if isinstance(default, bool) else [{"format": "csv", "scheme_out": "five", "detect_every": "3",
                                                       "max_frames": "5"}[dest]]
        assert main(["predict", *paths, "--engine", "ray", "--out", str(tmp_path / "r"), flag, *value]) == 2
        assert f"{flag} is not available there" in capfd.readouterr().err
    boxes = tmp_path / "b.json"
    boxes.write_text(json.dumps({os.path.basename(p): [[30, 30, 150, 150]] for p in paths}))
    runs = {"search and alignment": ["--min-face", "40", "--max-face", "400", "--rolled", "--refine", "0", "--flip",
                                     "--backend", "torch", "--threads", "1"],
            "boxes": ["--boxes", str(boxes), "--refine", "2"]}
    for name, flags in runs.items():
        out = tmp_path / name.replace(" ", "_")
        assert main(["predict", *paths, "--engine", "ray", "--out", str(out / "ray"), "--actors", "1", *flags]) == 0
        assert main(["predict", *paths, "--out", str(out / "local"), *flags]) == 0
        shard = [json.loads(x) for x in (out / "ray" / "shard-00000.jsonl").read_text().splitlines()]
        for rec, p in zip(shard, paths):
            local = json.loads((out / "local" / (os.path.basename(p)[:-4] + ".json")).read_text())
            assert len(rec["faces"]) == len(local["faces"]) >= 1, name
            for a, b in zip(rec["faces"], local["faces"]):
                np.testing.assert_allclose(a["landmarks"], b["landmarks"], atol=2e-3, err_msg=name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_lane_process_ends_when_the_server_is_killed(tmp_path_factory):
    """The large-image process never outlives the server: killed with SIGKILL (no shutdown runs),
    the server leaves no process behind."""
    import signal

    from PIL import Image

    proc, base = _start_server(tmp_path_factory)
    try:
        buf = io.BytesIO()
        Image.open(ASTRONAUT).resize((2400, 2400)).save(buf, "JPEG")
        assert post(base + "/v1/landmarks", buf.getvalue(), "image/jpeg")[0] == 200  # the lane has started
        children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == proc.pid]
        assert children, "no lane process found"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
    deadline = time.time() + 10
    while time.time() < deadline and [c for c in children if _alive(c)]:
        time.sleep(0.2)
    assert not [c for c in children if _alive(c)], f"processes {children} outlived the server"


def _ppid(proc_dir: Path) -> int:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
