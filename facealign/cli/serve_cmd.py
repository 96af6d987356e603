"""``facealign serve``: the HTTP service and its page (``pip install 'facealign[serve]'``)."""

from __future__ import annotations

import argparse

from facealign.cli.common import add_aligner_args, aligner_options, at_least, say
from facealign.data.images import MAX_PIXELS
from facealign.errors import FaceAlignError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="landmarks over HTTP: POST /v1/landmarks, a page at /, GET /healthz")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=at_least(0, int, 65535), default=8000, help="port (default 8000)")
    add_aligner_args(p)
    p.add_argument("--max-upload-mb", type=at_least(0.001, float, 1024), default=20.0,
                   help="largest request body, up to 1024 MB (default 20 MB)")
    p.add_argument("--max-pixels", type=at_least(1, int, MAX_PIXELS), default=40_000_000,
                   help=f"largest image (default 40 megapixels, at most {MAX_PIXELS // 1_000_000})")
    p.add_argument("--no-batching", action="store_true", help="one landmark pass per request (no micro-batching)")
    p.add_argument("--max-batch", type=at_least(1, int, 4096), default=64, help="most faces in one shared landmark pass")
    p.add_argument("--max-wait-ms", type=at_least(0.0, float, 10000), default=5.0,
                   help="longest a request waits for others to share its landmark pass (default 5 ms)")
    p.add_argument("--workers", type=at_least(1, int, 64), default=4,
                   help="threads that decode and detect, each with its own detector (default 4)")
    p.add_argument("--max-inflight", type=at_least(1, int, 10000), default=32,
                   help="requests admitted at once; more get 503 (default 32)")
    p.add_argument("--request-timeout", type=at_least(0.01, float, 3600), default=10.0,
                   help="seconds to answer a received request, else 504 (default 10)")
    p.add_argument("--body-timeout", type=at_least(0.1, float, 3600), default=10.0,
                   help="seconds to receive an upload, else 408 (default 10)")
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="a web origin (https://app.example) whose pages may call the API; others get 403")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a Host name to accept besides the bound address and localhost")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from facealign.serve import ServeConfig, create_app
    except ImportError as e:
        raise FaceAlignError(f"facealign serve needs its extra: pip install 'facealign[serve]' ({e.name} is missing)") from None
    cfg = ServeConfig(aligner=aligner_options(args), host=args.host, port=args.port,
                      max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), max_pixels=args.max_pixels,
                      batching=not args.no_batching, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                      workers=args.workers, max_inflight=args.max_inflight,
                      request_timeout_s=args.request_timeout, body_timeout_s=args.body_timeout,
                      allow_origins=tuple(args.allow_origin), allow_hosts=tuple(args.allow_host))
    app = create_app(cfg)
    say(f"facealign serve: http://{cfg.host}:{cfg.port}/ (POST /v1/landmarks, GET /healthz); Ctrl-C stops", stderr=True)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level="warning")
    return 0
