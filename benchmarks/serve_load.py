"""A bounded load test of `facealign serve` on 127.0.0.1, with and without micro-batching.

Usage: python benchmarks/serve_load.py [--clients 16] [--requests 160] [--image PATH]

Starts the service twice (batching on, then --no-batching) on a free local port, sends
``--requests`` uploads of one photo from ``--clients`` concurrent clients (each sends its share
back to back), and prints requests/s, p50/p99 latency and errors for both. Stops by itself.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "facealign", "serve", "--port", str(port), *extra], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the service did not start")


def load(base: str, data: bytes, clients: int, requests: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        for _ in range(n):
            req = urllib.request.Request(base + "/v1/landmarks", data=data, method="POST",
                                         headers={"Content-Type": "image/jpeg"})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    ok = r.status == 200 and len(json.loads(r.read())["faces"]) > 0
            except (urllib.error.URLError, OSError):
                ok = False
            with lock:
                latencies.append(time.perf_counter() - t)
                errors[0] += not ok

    shares = [requests // clients + (i < requests % clients) for i in range(clients)]
    threads = [threading.Thread(target=client, args=(n,)) for n in shares]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    with urllib.request.urlopen(base + "/healthz") as r:
        health = json.loads(r.read())
    return {"rps": len(lat) / wall, "p50": lat[len(lat) // 2] * 1000, "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
            "errors": errors[0], "passes": health["landmark_passes"], "requests": len(lat)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=160)
    ap.add_argument("--image", default=str(REPO / "facealign/assets/astronaut.jpg"))
    args = ap.parse_args()
    data = Path(args.image).read_bytes()
    print(f"{args.requests} uploads of {Path(args.image).name} ({len(data)} bytes) from {args.clients} concurrent clients\n")
    print("| service | requests/s | p50 ms | p99 ms | errors | landmark passes |")
    print("|---|---|---|---|---|---|")
    for name, extra in (("micro-batching (default)", []), ("--no-batching", ["--no-batching"])):
        proc, base = start(extra)
        try:
            load(base, data, args.clients, args.clients)  # warm-up: one request per client
            r = load(base, data, args.clients, args.requests)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        print(f"| {name} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} | {r['errors']} | {r['passes']} |")


if __name__ == "__main__":
    main()
