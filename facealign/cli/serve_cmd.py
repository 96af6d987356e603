"""``facealign serve``: the HTTP service and its page (``pip install 'facealign[serve]'``)."""

from __future__ import annotations

import argparse

from facealign.cli.common import at_least, say
from facealign.errors import FaceAlignError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="landmarks over HTTP: POST /v1/landmarks, a page at /, GET /healthz")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=at_least(0), default=8000, help="port (default 8000)")
    p.add_argument("--model", default="default", help="model name, file or URL#sha256=...")
    p.add_argument("--detector", default="auto", help="face detector (see facealign predict --help)")
    p.add_argument("--max-upload-mb", type=at_least(0.001, float), default=20.0, help="largest request body (default 20 MB)")
    p.add_argument("--max-pixels", type=at_least(1), default=40_000_000, help="largest image (default 40 megapixels)")
    p.add_argument("--no-batching", action="store_true", help="one landmark pass per request (no micro-batching)")
    p.add_argument("--max-batch", type=at_least(1), default=64, help="most faces in one shared landmark pass")
    p.add_argument("--max-wait-ms", type=at_least(0.0, float), default=5.0,
                   help="longest a request waits for others to share its landmark pass (default 5 ms)")
    p.add_argument("--threads", type=at_least(1), help="threads of the landmark stage")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from facealign.serve import ServeConfig, create_app
    except ImportError as e:
        raise FaceAlignError(f"facealign serve needs its extra: pip install 'facealign[serve]' ({e.name} is missing)") from None
    cfg = ServeConfig(model=args.model, detector=args.detector, host=args.host, port=args.port,
                      max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), max_pixels=args.max_pixels,
                      batching=not args.no_batching, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                      threads=args.threads)
    app = create_app(cfg)
    say(f"facealign serve: http://{cfg.host}:{cfg.port}/ (POST /v1/landmarks, GET /healthz); Ctrl-C stops", stderr=True)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level="warning")
    return 0
