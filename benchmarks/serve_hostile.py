"""`facealign serve` under good and hostile clients at once, on 127.0.0.1 (docs/serve.md).

Usage: python benchmarks/serve_hostile.py [--seconds 60] [--good 16] [--data ../shared/data/ytf68/val/images]

One server with its defaults. Phase 1: ``--good`` clients post video-size frames (YTF-68 val)
back to back for ``--seconds``. Phase 2, same server, same length: the same good clients plus four
hostile ones: two post thin images in turn (a 10 x 30000 PNG under 1 KB, refused with 413, and a
600 x 29000 PNG, searched), two open uploads and send one byte every half second (slow bodies,
cut off by the body deadline). Prints, per phase, the good requests' count, errors, p50/p99
latency, the hostile requests' answers, and the server's resident memory (min/max over the phase).
"""

from __future__ import annotations

import argparse
import io
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from serve_load import start  # noqa: E402 - the one way benchmarks start a server


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _post(base: str, data: bytes, ctype: str) -> int:
    req = urllib.request.Request(base + "/v1/landmarks", data=data, method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def _slow_body(base: str) -> int:
    """One upload that announces 100 kB and sends a byte every half second; its status."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(b"POST /v1/landmarks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                  b"Content-Length: 100000\r\n\r\n")
        s.settimeout(0.5)
        for _ in range(200):
            try:
                data = s.recv(4096)
                return int(data.split(b" ", 2)[1]) if data else 0
            except TimeoutError:
                try:
                    s.sendall(b"\xff")
                except OSError:
                    return 0
    return 0


def _rss_mb(pid: int) -> float:
    """Resident memory of the server and its child processes (the large-image lane)."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _rss_mb(int(child))
    except OSError:  # a process that ended between the reads
        pass
    return total


def phase(base: str, pid: int, frames: list[bytes], seconds: float, good: int, hostile: bool) -> dict:
    stop = time.perf_counter() + seconds
    lat: list[float] = []
    codes: Counter = Counter()
    bad: Counter = Counter()
    mem: list[float] = []
    lock = threading.Lock()
    thin, wide = _png(10, 30000), _png(600, 29000)

    def good_client(i: int) -> None:
        n = i
        while time.perf_counter() < stop:
            t = time.perf_counter()
            code = _post(base, frames[n % len(frames)], "image/jpeg")
            with lock:
                lat.append(time.perf_counter() - t)
                codes[code] += 1
            n += good

    def thin_client(i: int) -> None:
        n = i
        while time.perf_counter() < stop:
            name, data = ("10x30000 PNG", thin) if n % 2 == 0 else ("600x29000 PNG", wide)
            code = _post(base, data, "image/png")
            with lock:
                bad[f"{name}: {code}"] += 1
            n += 1

    def slow_client() -> None:
        while time.perf_counter() < stop:
            code = _slow_body(base)
            with lock:
                bad[f"slow body: {code}"] += 1

    def sample() -> None:
        while time.perf_counter() < stop:
            mem.append(_rss_mb(pid))
            time.sleep(0.5)

    threads = [threading.Thread(target=good_client, args=(i,)) for i in range(good)] + [threading.Thread(target=sample)]
    if hostile:
        threads += [threading.Thread(target=thin_client, args=(i,)) for i in range(2)]
        threads += [threading.Thread(target=slow_client) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    return {"good": len(lat), "errors": len(lat) - codes[200], "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, "hostile": dict(sorted(bad.items())),
            "mem": (min(mem), max(mem)), "quarters": [mem[min(len(mem) - 1, len(mem) * q // 4)] for q in (1, 2, 3, 4)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--good", type=int, default=16)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "ytf68" / "val" / "images"))
    args = ap.parse_args()
    frames = [p.read_bytes() for p in sorted(Path(args.data).glob("*.jpg"))[:64]]
    proc, base = start([])
    try:
        _post(base, frames[0], "image/jpeg")  # warm-up: model and detector loaded
        rows = [("good clients only", phase(base, proc.pid, frames, args.seconds, args.good, False)),
                ("good + 4 hostile", phase(base, proc.pid, frames, args.seconds, args.good, True))]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"| phase ({args.seconds:g} s each, {args.good} good clients) | good requests | good errors | p50 ms | p99 ms "
          "| server RSS MB, with its children (min-max; at 1/4, 2/4, 3/4, end) | hostile requests: answers |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        hostile = "; ".join(f"{k} x{v}" for k, v in r["hostile"].items()) or "-"
        print(f"| {name} | {r['good']} | {r['errors']} | {r['p50']:.0f} | {r['p99']:.0f} | "
              f"{r['mem'][0]:.0f}-{r['mem'][1]:.0f}; {', '.join(f'{m:.0f}' for m in r['quarters'])} | {hostile} |")


if __name__ == "__main__":
    main()
