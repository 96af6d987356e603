"""The FastAPI app: ``POST /v1/landmarks``, ``GET /healthz``, ``GET /`` (the page)."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from facealign.data.images import decode_image
from facealign.errors import FaceAlignError
from facealign.predict.result import FaceResult
from facealign.serve.batcher import MicroBatcher
from facealign.serve.config import ServeConfig

PAGE = Path(__file__).with_name("page.html")
IMAGE_TYPES = ("image/", "application/octet-stream")


class RequestError(Exception):
    """A client error: HTTP ``status`` and a message naming the cause."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def create_app(config: ServeConfig, aligner=None) -> FastAPI:
    if aligner is None:
        from facealign.predict.aligner import FaceAligner

        aligner = FaceAligner(config.model, config.detector, threads=config.threads)
    batcher = MicroBatcher(aligner, config.max_batch, config.max_wait_ms, enabled=config.batching)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="facealign", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.batcher, app.state.aligner, app.state.config = batcher, aligner, config

    @app.exception_handler(RequestError)
    async def client_error(request: Request, exc: RequestError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "model": str(config.model), "scheme": aligner.scheme.name,
                "batching": config.batching, "landmark_passes": batcher.passes, "requests_batched": batcher.jobs}

    @app.get("/", response_class=HTMLResponse)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.post("/v1/landmarks")
    async def landmarks(request: Request):
        t0 = time.perf_counter()
        name, data = await _upload(request, config)
        image = await run_in_threadpool(_decode, data, name, config.max_pixels)
        det, boxes, rolls = await run_in_threadpool(_detect, aligner, image)
        lm, sc = await batcher.landmarks(image, boxes, rolls)
        res = FaceResult(det.image_boxes(), lm, sc, det.scores, aligner.scheme, image.shape[:2], name)
        body = await run_in_threadpool(res.to_json)  # head pose: solvePnP per face, off the event loop
        body["time_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return body

    return app


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
    except FaceAlignError as e:
        raise RequestError(413 if "over the limit" in str(e) else 400, str(e)) from None


def _detect(aligner, image: np.ndarray):
    det = aligner.detect(image)
    boxes, rolls = aligner.frame_faces(det)
    return det, boxes, rolls
