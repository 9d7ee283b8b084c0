"""Vercel's errors: small classes carrying status and code, in Vercel's body shape.

Vercel answers every error as ``{"error": {"code", "message"}}``; the CLI prints
``error.message``. ``fakes.common.app.make_app`` turns any of these into a response.

    VercelError (400 bad_request)
    ├── BadRequest      400 bad_request    malformed body, invalid state for the action
    │   └── EnvAlreadyExists 400 ENV_ALREADY_EXISTS   a key taken for that target
    ├── NotAuthorized   403 forbidden      missing or wrong bearer token
    ├── NotFound        404 not_found      unknown project, deployment, env var, team
    └── Conflict        409 conflict       already current, alias request in progress
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError


class VercelError(FakeError):
    """Base of every Vercel error; its body is Vercel's ``{"error": {code, message}}``."""

    status = 400
    code = "bad_request"


class BadRequest(VercelError):
    status = 400
    code = "bad_request"


class EnvAlreadyExists(BadRequest):
    """Creating a variable whose key already exists for one of its targets (no upsert)."""

    code = "ENV_ALREADY_EXISTS"

    def __init__(self, key: str, env_var_id: str, target: str) -> None:
        super().__init__(f"A variable with the name `{key}` already exists for the "
                         f"target {target} on branch undefined")
        self.key = key
        self.env_var_id = env_var_id

    def body(self) -> Any:
        return {"error": {"code": self.code, "message": self.message,
                          "key": self.key, "envVarId": self.env_var_id}}


class NotAuthorized(VercelError):
    """Vercel sends 403 (not 401) for a missing or invalid token, flagged ``invalidToken``."""

    status = 403
    code = "forbidden"

    def __init__(self, message: str = "Not authorized", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)

    def body(self) -> Any:
        return {"error": {"code": self.code, "message": self.message, "invalidToken": True}}


class NotFound(VercelError):
    status = 404
    code = "not_found"


class Conflict(VercelError):
    status = 409
    code = "conflict"
