"""PostHog's errors, each carrying its HTTP status and PostHog's JSON error shape.

PostHog (Django REST framework and the Rust capture/flags services) answers errors as
``{"type": ..., "code": ..., "detail": ..., "attr": ...}``; ``type`` is
``authentication_error``, ``validation_error`` or ``invalid_request``, and ``attr`` names
the offending field of a validation error (else null).
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError


class PostHogError(FakeError):
    """Base: a 400 ``invalid_request``; subclasses set status, type, code, detail."""

    status = 400
    type = "invalid_request"
    code = "invalid_request"
    default_detail = "Invalid request."

    def __init__(self, message: str | None = None, *, attr: str | None = None,
                 status: int | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.default_detail, status=status, code=code,
                         headers=headers)
        self.attr = attr

    def body(self) -> Any:
        return {"type": self.type, "code": self.code, "detail": self.message,
                "attr": self.attr}


class ValidationError(PostHogError):
    """A body that parses but breaks a rule (a rollout of 150, a duplicate key)."""

    type = "validation_error"
    code = "invalid_input"
    default_detail = "Invalid input."


class ParseError(PostHogError):
    """A body that is not JSON, or does not decode (bad gzip)."""

    type = "validation_error"
    code = "parse_error"
    default_detail = "Malformed request."


class InvalidApiKey(PostHogError):
    """A missing or wrong project API key (``phc_…``) on capture or flag evaluation."""

    status = 401
    type = "authentication_error"
    code = "invalid_api_key"
    default_detail = ("Project API key invalid. You can find your project API key in "
                      "PostHog project settings.")


class NotAuthenticated(PostHogError):
    """No personal API key on a private endpoint."""

    status = 401
    type = "authentication_error"
    code = "not_authenticated"
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(PostHogError):
    """A personal API key that is not this project's."""

    status = 401
    type = "authentication_error"
    code = "authentication_failed"
    default_detail = "Personal API key found in request Authorization header is invalid."


class NotFound(PostHogError):
    """An unknown flag id or key, or a project this key cannot see."""

    status = 404
    code = "not_found"
    default_detail = "Not found."


class HardDeleteForbidden(PostHogError):
    """``DELETE`` of a flag: PostHog answers a bare 405; soft delete with PATCH instead."""

    status = 405
    code = "method_not_allowed"
    default_detail = ('Hard delete of this model is not allowed. Use a patch API call to '
                      'set "deleted" to true')

    def body(self) -> Any:
        return ""  # DRF's Response(status=405) carries no body
