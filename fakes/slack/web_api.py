"""Slack's Web API method ``chat.postMessage``, as a bot (Sentry's Slack app) calls it.

``POST /api/chat.postMessage`` with the bot token as ``Authorization: Bearer xoxb-…`` (or
a ``token`` field), a form-encoded or JSON body: ``channel`` (a name or an id), ``text``,
``blocks`` / ``attachments`` (a form field holds them as JSON text), ``thread_ts``.
Every answer is HTTP 200 with ``{"ok": true, "channel", "ts", "message"}`` or ``{"ok":
false, "error": code}``: ``not_authed`` (no token), ``invalid_auth`` (another token),
``channel_not_found``, ``is_archived``, ``restricted_action``, ``no_text``,
``invalid_arguments`` (api.slack.com/methods/chat.postMessage, "Errors"; the method's
recorded reference: github:slack-ruby/slack-api-ref ``methods/chat/chat.postMessage.json``).
"""

from __future__ import annotations

import json
from typing import Any

from fakes.slack.backend import Message, SlackBackend, channel_id
from fakes.slack.errors import (
    ActionProhibited,
    ChannelIsArchived,
    ChannelNotFound,
    InvalidPayload,
    NoText,
    SlackError,
)

BOT_ID = "B0DRILLBOT"  # who the Web API's messages are posted by
# The webhook's error classes, as the Web API names the same refusals.
_WEB_CODES: dict[type[SlackError], str] = {
    ChannelNotFound: "channel_not_found", ChannelIsArchived: "is_archived",
    ActionProhibited: "restricted_action", NoText: "no_text",
    InvalidPayload: "invalid_arguments"}
_JSON_FIELDS = ("blocks", "attachments")


def post_message(backend: SlackBackend, authorization: str | None,
                 fields: dict[str, Any]) -> dict[str, Any]:
    """``chat.postMessage`` with ``fields`` (the parsed body); the Web API's answer."""
    token = _token(authorization, fields)
    if not token:
        return {"ok": False, "error": "not_authed"}
    if token != backend.bot_token:
        return {"ok": False, "error": "invalid_auth"}
    channel = fields.get("channel")
    if not isinstance(channel, str) or not channel.strip():
        return {"ok": False, "error": "channel_not_found"}
    try:
        payload = {k: _field(k, v) for k, v in fields.items() if k not in ("token", "channel")}
        message = backend.post_message(channel, payload, BOT_ID)
    except SlackError as exc:
        return {"ok": False, "error": _WEB_CODES.get(type(exc), exc.code)}
    return {"ok": True, "channel": channel_id(message.channel), "ts": message.ts,
            "message": _serialize(message)}


def _token(authorization: str | None, fields: dict[str, Any]) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = fields.get("token")
    return token if isinstance(token, str) else ""


def _field(name: str, value: Any) -> Any:
    """A form field as the method reads it: ``blocks``/``attachments`` are JSON text."""
    if name in _JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidPayload(f"{name} is not JSON") from exc
    return value


def _serialize(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "message", "bot_id": message.webhook, "ts": message.ts,
                           "text": message.text or ""}
    if message.attachments:
        out["attachments"] = message.attachments
    if message.blocks:
        out["blocks"] = message.blocks
    return out
