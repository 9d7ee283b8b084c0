"""Building a fake's FastAPI app: one error handler, decoded bodies, no slash redirects.

Real clients post to paths with and without trailing slashes, compress bodies with gzip,
deflate, brotli or zstd (bodies and what they decompress to are bounded:
``fakes.common.limits``), and expect each vendor's own error shape even for malformed input.
``make_app`` wires that once; routers only declare routes and call their backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from fakes.common.errors import FakeError, InvalidRequest
from fakes.common.head import HeadAsGet
from fakes.common.limits import BodyLimit, TooLarge, decompress
from fakes.common.openapi import complete
from fakes.common.responses import error_response


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    """Undo ``Content-Encoding`` (at most ``MAX_DECODED`` bytes of it); raises
    InvalidRequest when the body does not decode (413 when it decodes to too much)."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return raw
    if enc not in ("gzip", "x-gzip", "deflate", "br", "zstd"):
        raise InvalidRequest(f"unsupported Content-Encoding {enc!r}", status=415)
    try:
        return decompress(raw, enc)
    except ImportError as exc:
        raise InvalidRequest(f"Content-Encoding {enc!r} is not supported here ({exc})",
                             status=415) from exc
    except TooLarge as exc:
        raise InvalidRequest(str(exc), status=413) from exc
    except Exception as exc:  # any codec failure is the client's malformed body
        raise InvalidRequest(f"body does not decode as {enc}: {exc}") from exc


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
    app.add_middleware(BodyLimit, error_class=error_class)  # fakes.common.limits
    complete(app, title)  # every path parameter and the error responses declared
    return app


def route_both(router: Any, path: str, methods: list[str]) -> Callable[[Any], Any]:
    """Register a handler on ``path`` and on ``path`` with the trailing slash toggled."""
    other = path[:-1] if path.endswith("/") else path + "/"

    def deco(fn: Any) -> Any:
        router.add_api_route(path, fn, methods=methods)
        router.add_api_route(other, fn, methods=methods, include_in_schema=False)
        return fn

    return deco
