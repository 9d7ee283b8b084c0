"""The base of every fake's errors: an exception that carries its HTTP status.

Each vendor subclasses ``FakeError`` in its own ``errors.py`` and says how its body looks
(``body()``); one exception handler per app (``fakes.common.app``) turns any of them into
the vendor's status and error shape.
"""

from __future__ import annotations

from typing import Any


class FakeError(Exception):
    """A vendor error: HTTP ``status``, a machine ``code`` and a human ``message``."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> Any:
        """The JSON body the vendor sends; subclasses override with their shape."""
        return {"error": {"code": self.code, "message": self.message}}

    def media_type(self) -> str:
        return "application/json"


class NotFound(FakeError):
    status = 404
    code = "not_found"


class Unauthorized(FakeError):
    status = 401
    code = "unauthorized"


class Forbidden(FakeError):
    status = 403
    code = "forbidden"


class Conflict(FakeError):
    status = 409
    code = "conflict"


class InvalidRequest(FakeError):
    status = 400
    code = "bad_request"
