"""PagerDuty Events API v2 errors, in the Events API's own body shape.

A rejected event is ``400 {"status": "invalid event", "message": "Event object is
invalid", "errors": [...]}``, every problem found listed at once. The error strings
about the routing key's length and characters and about ``payload.severity`` are the
live API's (seen in issue reports and client test fixtures); the others follow their
style and are this fake's own wording.

    PagerDutyError (400)
    ├── InvalidEvent  400  malformed JSON, a missing or invalid field, unknown routing key
    └── NotFound      404  no open incident for a dedup_key (backend and control plane)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fakes.common.errors import FakeError


class PagerDutyError(FakeError):
    """Base of the PagerDuty errors: ``{"status": "error", "message": message}``."""

    status = 400
    code = "error"

    def body(self) -> Any:
        return {"status": self.code, "message": self.message}


class InvalidEvent(PagerDutyError):
    """The event was refused; ``errors`` lists every reason. ``status`` and ``headers``
    are for shared layers that build the app's error class from a status (a body that
    does not decode is a 415, an injected fault any status)."""

    status = 400
    code = "invalid event"

    def __init__(self, errors: str | Sequence[str], *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors), status=status, headers=headers)

    def body(self) -> Any:
        return {"status": self.code, "message": "Event object is invalid",
                "errors": self.errors}


class NotFound(PagerDutyError):
    status = 404
    code = "not found"
