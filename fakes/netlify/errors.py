"""Netlify's errors: small classes carrying their status, in Netlify's body shape.

Netlify answers every error as ``{"code": <HTTP status>, "message": "..."}`` (the code is
the status as an integer, not a word); @netlify/api raises ``JSONHTTPError`` with that body
and netlify-cli prints the message. ``fakes.common.app.make_app`` turns any of these
into a response.

    NetlifyError (400)
    ├── BadRequest      400   a body that is not JSON
    ├── Unauthorized    401   missing or wrong bearer token
    ├── NotFound        404   unknown site, deploy, build, account, env var, route
    └── Unprocessable   422   a well-formed request the state does not allow, invalid fields
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError


class NetlifyError(FakeError):
    """Base of every Netlify error; its body is ``{"code": status, "message": ...}``."""

    status = 400
    code = "bad_request"

    def body(self) -> Any:
        return {"code": self.status, "message": self.message}


class BadRequest(NetlifyError):
    status = 400
    code = "bad_request"


class Unauthorized(NetlifyError):
    """What Netlify's edge answers for a missing or invalid personal access token."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "Access Denied: Origin returned bad status 401",
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class NotFound(NetlifyError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not Found", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Unprocessable(NetlifyError):
    status = 422
    code = "unprocessable_entity"
