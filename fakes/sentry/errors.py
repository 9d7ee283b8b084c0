"""Sentry's errors: ``{"detail": "..."}`` bodies, and DRF field errors for bad payloads.

Sentry's web API and its ingestion service (Relay) both answer errors as
``{"detail": message}``; serializer validation on create endpoints (alert rules,
releases, deploys) answers ``{field: [message, ...]}`` instead, which is what
``ValidationError`` carries.
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError


class SentryError(FakeError):
    """Any Sentry error; the body is ``{"detail": message}``."""

    status = 400
    code = "bad_request"

    def body(self) -> Any:
        return {"detail": self.message}


class BadRequest(SentryError):
    """400: a malformed request, query parameter or envelope."""


class InvalidEnvelope(BadRequest):
    """400: an envelope that is truncated or does not parse (nothing of it is stored)."""


class ValidationError(BadRequest):
    """400 with a serializer-style body ``{field: [message]}``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message

    def body(self) -> Any:
        return {self.field: [self.detail]}


class Unauthorized(SentryError):
    """401: missing or invalid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(SentryError):
    """403: a key or project this caller may not use (Relay answers so for a bad DSN)."""

    status = 403
    code = "forbidden"


class NotFound(SentryError):
    """404: unknown organization, project, release, alert rule."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "The requested resource does not exist") -> None:
        super().__init__(message)
