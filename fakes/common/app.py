"""Building a fake's FastAPI app: one error handler, decoded bodies, no slash redirects.

Real clients post to paths with and without trailing slashes, compress bodies with gzip,
deflate or brotli, and expect each vendor's own error shape even for malformed input.
``make_app`` wires that once; routers only declare routes and call their backend.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from fakes.common.errors import FakeError, InvalidRequest
from fakes.common.head import HeadAsGet


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    """Undo ``Content-Encoding``; raises InvalidRequest when the body does not decode."""
    enc = (encoding or "identity").strip().lower()
    try:
        if enc in ("", "identity"):
            return raw
        if enc in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if enc == "deflate":
            try:
                return zlib.decompress(raw)
            except zlib.error:
                return zlib.decompress(raw, -zlib.MAX_WBITS)
        if enc == "br":
            import brotli  # optional: installed with the 'test' extra and by drill serve users

            return bytes(brotli.decompress(raw))
        if enc == "zstd":  # posthog-python's capture_compression='zstd' (posthog/capture_v1.py)
            import zstandard  # a project dependency (pyproject.toml)

            return bytes(zstandard.ZstdDecompressor().decompress(raw))
    except ImportError as exc:
        raise InvalidRequest(f"Content-Encoding {enc!r} is not supported here ({exc})",
                             status=415) from exc
    except Exception as exc:  # any codec failure is the client's malformed body
        raise InvalidRequest(f"body does not decode as {enc}: {exc}") from exc
    raise InvalidRequest(f"unsupported Content-Encoding {enc!r}", status=415)


async def read_body(request: Request) -> bytes:
    """The request body with its Content-Encoding undone."""
    return decode_body(await request.body(), request.headers.get("content-encoding"))


async def read_json(request: Request, error: type[FakeError] = InvalidRequest) -> Any:
    """The decoded JSON body; raises ``error`` (the vendor's class) when it does not
    decode or is not JSON (a decoding failure keeps its status: 400, or 415)."""
    try:
        raw = await read_body(request)
    except FakeError as exc:
        if isinstance(exc, error):
            raise
        raise error(exc.message, status=exc.status, headers=exc.headers) from exc
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"malformed JSON body: {exc}") from exc


def error_response(exc: FakeError) -> Response:
    """The vendor-shaped response for one of its errors."""
    body = exc.body()
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=exc.status, headers=exc.headers)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def make_app(title: str, error_class: type[FakeError],
             openapi: bool = True) -> FastAPI:
    """A FastAPI app whose errors, including validation errors, take the vendor's shape,
    and whose GET routes answer HEAD (``fakes.common.head``)."""
    app = FastAPI(title=title, redirect_slashes=False,
                  openapi_url="/_fake/openapi.json" if openapi else None,
                  docs_url=None, redoc_url=None)

    async def handle_fake(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, FakeError)
        return error_response(exc)

    async def handle_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(error_class(f"{where}: {first.get('msg')}"))

    app.state.fake_error_class = error_class
    app.add_exception_handler(FakeError, handle_fake)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_middleware(HeadAsGet)  # the innermost: it sees paths as the router does
    return app


def route_both(router: Any, path: str, methods: list[str]) -> Callable[[Any], Any]:
    """Register a handler on ``path`` and on ``path`` with the trailing slash toggled."""
    other = path[:-1] if path.endswith("/") else path + "/"

    def deco(fn: Any) -> Any:
        router.add_api_route(path, fn, methods=methods)
        router.add_api_route(other, fn, methods=methods, include_in_schema=False)
        return fn

    return deco
