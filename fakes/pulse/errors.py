"""Pulse's errors: small classes carrying status and type, in Pulse's body shape.

Pulse answers every error as
``{"error": {"type": ..., "message": ..., "request_id": ...}}`` (plus ``param`` naming
the offending query parameter of an ``invalid_request_error``). ``request_id`` is also
sent as the ``X-Request-Id`` header; the backend stamps it on an error as it passes.

    PulseError (400 invalid_request_error)
    ├── InvalidRequest       400 invalid_request_error  bad limit, cursor, updated_since, body
    ├── AuthenticationError  401 authentication_error   missing or unknown API key
    ├── NotFound             404 not_found_error        unknown contact, unknown route
    ├── RateLimited          429 rate_limit_error       token bucket empty (Retry-After)
    ├── ApiError             500/502/503 api_error      injected server errors
    └── PulseTimeout         504 timeout_error          a request that would take too long
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError

# The type an error of a given status has when only the status is known (an error made
# by a generic layer, e.g. fakes.common.faults, from this class and a status).
_TYPE_BY_STATUS = {401: "authentication_error", 403: "authentication_error",
                   404: "not_found_error", 429: "rate_limit_error", 504: "timeout_error"}


class PulseError(FakeError):
    """Base of every Pulse error; ``code`` is Pulse's error ``type``."""

    status = 400
    code = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, status: int | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        if code is None and status is not None and status != self.status:
            code = _TYPE_BY_STATUS.get(status, "api_error" if status >= 500 else None)
        super().__init__(message, status=status, code=code, headers=headers)
        self.param = param
        self.request_id: str | None = None

    def body(self) -> Any:
        error: dict[str, Any] = {"type": self.code, "message": self.message,
                                 "request_id": self.request_id}
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


class InvalidRequest(PulseError):
    status = 400
    code = "invalid_request_error"


class AuthenticationError(PulseError):
    status = 401
    code = "authentication_error"


class NotFound(PulseError):
    status = 404
    code = "not_found_error"


class RateLimited(PulseError):
    """429; ``headers`` carry ``Retry-After`` and the ``X-RateLimit-*`` triple."""

    status = 429
    code = "rate_limit_error"


class ApiError(PulseError):
    """A server-side failure (500, 502 or 503), as an injected ``error_rate`` fault gives."""

    status = 500
    code = "api_error"


class PulseTimeout(PulseError):
    """The request would have taken ``seconds`` of virtual time: answered as a 504.

    The backend cannot sleep, so it raises this instead; the router waits
    ``min(real_latency, cap)`` real seconds first when the fault asked for a real delay.
    """

    status = 504
    code = "timeout_error"

    def __init__(self, seconds: float, real_latency: float = 0.0) -> None:
        super().__init__(f"The request timed out after {seconds:g}s upstream",
                         headers={"X-Pulse-Simulated-Latency": f"{seconds:.3f}"})
        self.seconds = float(seconds)
        self.real_latency = float(real_latency)
