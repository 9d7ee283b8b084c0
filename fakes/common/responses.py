"""A vendor error as the HTTP response the vendor sends: its status, headers and body
(JSON, or plain text for the vendors that answer so)."""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse, Response

from fakes.common.errors import FakeError


def error_response(exc: FakeError) -> Response:
    """The vendor-shaped response for one of its errors."""
    body = exc.body()
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=exc.status, headers=exc.headers)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)
