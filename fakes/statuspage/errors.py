"""Statuspage's errors: ``{"error": message}`` bodies carrying their HTTP status.

Statuspage answers a bad key with ``401 {"error": "Could not authenticate"}`` and a body
without its wrapper object with ``400 {"error": "incident is missing"}`` (both seen in
reports of the live API). Validation failures are 422; Statuspage's bodies for those vary
(a string, a list, or ``{field: [messages]}``), and this fake always sends a string.

    StatuspageError (400)
    ├── BadRequest      400  malformed JSON, missing ``incident``/``component`` object
    ├── Unauthorized    401  missing or wrong ``Authorization: OAuth <key>``
    ├── NotFound        404  unknown page, component, incident or route
    └── Unprocessable   422  a field with a value not allowed, a forbidden status change
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError


class StatuspageError(FakeError):
    """Base of every Statuspage error; its body is ``{"error": message}``."""

    status = 400
    code = "bad_request"

    def body(self) -> Any:
        return {"error": self.message}


class BadRequest(StatuspageError):
    status = 400
    code = "bad_request"


class Unauthorized(StatuspageError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "Could not authenticate") -> None:
        super().__init__(message)


class NotFound(StatuspageError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "The requested resource could not be found.") -> None:
        super().__init__(message)


class Unprocessable(StatuspageError):
    status = 422
    code = "unprocessable_entity"
