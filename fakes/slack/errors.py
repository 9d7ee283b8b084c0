"""Slack incoming-webhook errors: a status and a bare code, sent as ``text/plain``.

An incoming webhook answers ``ok`` on success and, on failure, only the error code as a
plain-text body (no JSON), e.g. ``400 no_text``. ``fakes.common.app`` sends a ``str``
body as ``text/plain``.

    SlackError (400 invalid_payload)
    ├── InvalidPayload     400 invalid_payload      body not JSON / not an object, bad field type
    ├── NoText             400 no_text              neither text, blocks nor attachments
    ├── ActionProhibited   403 action_prohibited    posting to the channel is restricted
    ├── NoService          404 no_service           unknown (or revoked) webhook URL
    ├── ChannelNotFound    404 channel_not_found    the webhook's channel was deleted
    └── ChannelIsArchived  410 channel_is_archived  the webhook's channel is archived
"""

from __future__ import annotations

from fakes.common.errors import FakeError


class SlackError(FakeError):
    """Base of the webhook errors; the body is the bare code as plain text."""

    status = 400
    code = "invalid_payload"

    def __init__(self, message: str | None = None, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.code, status=status, headers=headers)

    def body(self) -> str:
        return self.code

    def media_type(self) -> str:
        return "text/plain"


class InvalidPayload(SlackError):
    status = 400
    code = "invalid_payload"


class NoText(SlackError):
    status = 400
    code = "no_text"


class ActionProhibited(SlackError):
    status = 403
    code = "action_prohibited"


class NoService(SlackError):
    status = 404
    code = "no_service"


class ChannelNotFound(SlackError):
    status = 404
    code = "channel_not_found"


class ChannelIsArchived(SlackError):
    status = 410
    code = "channel_is_archived"
