"""The FastAPI app: ``POST /v1/landmarks``, ``GET /healthz``, ``GET /`` (the page)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from facealign.data.images import decode_image, image_size
from facealign.errors import FaceAlignError, ImageTooLarge
from facealign.predict.result import FaceResult
from facealign.serve.batcher import MicroBatcher
from facealign.serve.config import ServeConfig
from facealign.serve.large_lane import answer_encoded

PAGE = Path(__file__).with_name("page.html")
IMAGE_TYPES = ("image/", "application/octet-stream")


class RequestError(Exception):
    """A client error: HTTP ``status`` and a message naming the cause."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def create_app(config: ServeConfig, aligner=None) -> FastAPI:
    lane = None
    if aligner is None:
        from facealign.serve.large_lane import large_image_lane

        aligner = config.aligner.build()
        lane = large_image_lane(config.aligner)
    from facealign.detect import BoxesDetector

    if isinstance(getattr(aligner, "detector", None), BoxesDetector):
        raise FaceAlignError(f"{aligner.detector.path}: a boxes file names faces per image file; a server gets "
                             "uploads, not files: serve with a detector (auto, yunet, dlib, cascade, full)")
    batcher = MicroBatcher(aligner, config.max_batch, config.max_wait_ms, enabled=config.batching)
    # decoding and detection: a pool of its own, so slow images hold these threads, never the model's
    workers = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, config.workers), thread_name_prefix="facealign-detect")
    admitted = asyncio.Semaphore(max(1, config.max_inflight))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await batcher.start()
        yield
        await batcher.stop()
        workers.shutdown(wait=False, cancel_futures=True)
        if lane is not None:
            lane.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="facealign", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.batcher, app.state.aligner, app.state.config = batcher, aligner, config

    @app.middleware("http")
    async def same_site_only(request: Request, call_next):
        problem = _cross_site_problem(request, config)
        if problem:
            return JSONResponse({"error": problem}, status_code=403)
        return await call_next(request)

    @app.exception_handler(RequestError)
    async def client_error(request: Request, exc: RequestError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(FaceAlignError)
    async def server_error(request: Request, exc: FaceAlignError):  # the model or detector failed on a good image
        return JSONResponse({"error": str(exc)}, status_code=500)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "model": str(config.aligner.model), "scheme": aligner.scheme.name,
                "batching": config.batching, "landmark_passes": batcher.passes, "requests_batched": batcher.jobs}

    @app.get("/", response_class=HTMLResponse)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    async def answer(request: Request) -> dict:
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(config.body_timeout_s):
                name, data = await _upload(request, config)
        except TimeoutError:
            raise RequestError(408, f"the upload was not received within {config.body_timeout_s:g} s") from None
        try:
            async with asyncio.timeout(config.request_timeout_s):
                size = image_size(data)  # bytes: Pillow reads the header without copying the upload
                if lane is not None and size is not None and size[0] * size[1] > config.large_image_pixels:
                    # answered whole in the lane's process, one at a time: a stream of large images
                    # cannot starve the rest, and this process never decodes them
                    body = await loop.run_in_executor(lane, answer_encoded, data, name, config.max_pixels)
                    if isinstance(body, tuple):
                        raise RequestError(413 if body[1] else 400, body[2])
                else:
                    image = await loop.run_in_executor(workers, _decode, data, name, config.max_pixels)
                    det, boxes, rolls = await loop.run_in_executor(workers, aligner.find_faces, image)
                    lm, sc = await batcher.landmarks(image, boxes, rolls)
                    res = FaceResult(det.image_boxes(), lm, sc, det.scores, aligner.scheme, image.shape[:2], name)
                    body = await loop.run_in_executor(workers, res.to_json)  # head pose: solvePnP per face
        except TimeoutError:
            raise RequestError(504, f"no answer within {config.request_timeout_s:g} s") from None
        body["time_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return body

    @app.post("/v1/landmarks")
    async def landmarks(request: Request):
        if admitted.locked():  # a bounded queue: refuse at once rather than wait behind every other request
            raise RequestError(503, f"busy: {config.max_inflight} requests in progress; retry shortly")
        async with admitted:
            return await answer(request)

    return app


def _cross_site_problem(request: Request, config: ServeConfig) -> str | None:
    """Why a request is refused as cross-site (None when it is not): a Host that is not this
    server's (DNS rebinding), or a browser's Origin that is neither this server nor allowed."""
    host = (request.headers.get("host") or "").lower()
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # not a host name at all ("[", an unclosed IPv6 address): no name is this server's
        name = ""
    if host and config.host not in ("0.0.0.0", "::", ""):  # (a request without Host cannot come from a rebound name)
        known = {"127.0.0.1", "localhost", "::1", config.host.lower(), *(h.lower() for h in config.allow_hosts)}
        if name not in known:
            return f"Host {host!r} is not this server's; start it with --allow-host {name} to accept it"
    origin = request.headers.get("origin")
    if origin is None or origin.lower() in {f"http://{host}", f"https://{host}"}:
        return None
    if origin in config.allow_origins or "*" in config.allow_origins:
        return None
    return f"cross-site request from {origin!r} refused; start the server with --allow-origin {origin} to accept it"


async def _upload(request: Request, config: ServeConfig) -> tuple[str | None, bytes]:
    """(file name or None, bytes) of a raw image body or a multipart form's one file."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    multipart = ctype == "multipart/form-data"
    if not multipart and not ctype.startswith(IMAGE_TYPES):
        raise RequestError(415, f"content type {ctype or '(none)'!r} is not accepted: send an image "
                                "(image/jpeg, image/png, ...) as the body or as a multipart/form-data file")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > config.max_upload_bytes:
        raise RequestError(413, f"upload of {int(declared)} bytes is over the limit of {config.max_upload_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > config.max_upload_bytes:
            raise RequestError(413, f"upload is over the limit of {config.max_upload_bytes} bytes")
    if not body:
        raise RequestError(400, "empty request body: send an image")
    if not multipart:
        return None, bytes(body)
    return await _form_file(request, bytes(body))


async def _form_file(request: Request, body: bytes) -> tuple[str | None, bytes]:
    from starlette.datastructures import UploadFile

    async def replay():  # the body was read once, under the size limit; the form parser reads it again
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=2, max_fields=10)
    except Exception as e:  # noqa: BLE001 - malformed multipart bodies raise several kinds
        raise RequestError(400, f"malformed multipart/form-data body ({e})") from None
    files = [v for v in form.values() if isinstance(v, UploadFile)]
    if len(files) != 1:
        raise RequestError(400, f"a multipart upload needs exactly one file field, got {len(files)}")
    data = await files[0].read()
    if not data:
        raise RequestError(400, f"uploaded file {files[0].filename!r} is empty")
    return files[0].filename, data


def _decode(data: bytes, name: str | None, max_pixels: int) -> np.ndarray:
    try:
        return decode_image(np.frombuffer(data, np.uint8), name or "upload", max_pixels)
    except ImageTooLarge as e:
        raise RequestError(413, str(e)) from None
    except FaceAlignError as e:
        raise RequestError(400, str(e)) from None

