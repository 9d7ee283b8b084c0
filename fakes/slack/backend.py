"""The fake Slack: incoming webhooks that post into channels, on a virtual clock.

A pure state machine (no HTTP; ``router.py`` is the HTTP face). Each webhook is bound to
one channel, as Slack's app-scoped incoming webhooks are; ``create_webhook`` mints one
(deterministic ids) and returns its URL path ``/services/T…/B…/secret``. ``reset``
always creates the default webhook for ``#incidents`` (the runbook's channel). The
secrets are derived from a salt (``rekey``): none by default, so the same URL on every
install; ``drill serve`` beyond loopback salts them with its per-serve secret.

Every accepted message is kept per channel with a Slack-style ``ts`` derived from the
clock (Unix seconds of the virtual time, six decimals, strictly increasing per channel),
so a drill can read who was told what, and when, from ``messages()``.

Apart from webhooks, ``post_message`` posts to any channel by name or id: the Web API's
``chat.postMessage`` (``web_api``), which a bot token reaches, as Sentry's Slack app does.

Checks run in Slack's order as far as it shows: the URL (``no_service``), then the
payload (``invalid_payload``, ``no_text``), then the channel (``channel_not_found``,
``channel_is_archived``, ``action_prohibited``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from fakes.common.clock import Clock, to_datetime
from fakes.slack.errors import (
    ActionProhibited,
    ChannelIsArchived,
    ChannelNotFound,
    InvalidPayload,
    NoService,
    NoText,
)

DEFAULT_CHANNEL = "#incidents"
TEAM_ID = "T0DRILL01"
DEFAULT_BOT_TOKEN = "xoxb-drill-bot-token"
_UPPER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _UPPER + "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Channel:
    """A channel and the switches that make posting to it fail."""

    name: str
    archived: bool = False
    posting_restricted: bool = False
    deleted: bool = False


@dataclass
class Webhook:
    """One incoming webhook: its URL parts and the channel it posts to."""

    team_id: str
    bot_id: str
    secret: str
    channel: str
    created: float

    @property
    def path(self) -> str:
        return f"/services/{self.team_id}/{self.bot_id}/{self.secret}"


@dataclass
class Message:
    """A message a webhook posted; ``at`` is virtual seconds, ``ts`` Slack's id for it."""

    channel: str
    ts: str
    at: float
    text: str | None
    webhook: str  # the bot id of the webhook that posted it
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    thread_ts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def channel_name(name: str) -> str:
    """``incidents`` and ``#incidents`` name the same channel; raises InvalidPayload if
    empty."""
    bare = name.strip().lstrip("#")
    if not bare:
        raise InvalidPayload("a channel needs a name")
    return "#" + bare


def check_payload(payload: Any) -> dict[str, Any]:
    """The payload's fields; raises InvalidPayload (bad shape) or NoText (nothing to post).

    Like ``chat.postMessage``, a message needs text, blocks or attachments (the lead's
    brief said text or blocks; legacy attachment-only messages are accepted by Slack).
    """
    if not isinstance(payload, dict):
        raise InvalidPayload("the payload must be a JSON object")
    text, blocks = payload.get("text"), payload.get("blocks")
    attachments, thread_ts = payload.get("attachments"), payload.get("thread_ts")
    if text is not None and not isinstance(text, str):
        raise InvalidPayload("text must be a string")
    for name, value in (("blocks", blocks), ("attachments", attachments)):
        if value is not None and not isinstance(value, list):
            raise InvalidPayload(f"{name} must be an array")
    if thread_ts is not None and not isinstance(thread_ts, str | int | float):
        raise InvalidPayload("thread_ts must be a string")
    if not text and not blocks and not attachments:
        raise NoText()
    return payload


class SlackBackend:
    """Webhooks, channels and the messages posted to them, read off an injected clock."""

    def __init__(self, clock: Clock, team_id: str = TEAM_ID,
                 bot_token: str = DEFAULT_BOT_TOKEN) -> None:
        self.clock = clock
        self.team_id = team_id
        self.bot_token = bot_token  # the Web API's (``web_api``): Sentry's Slack app posts so
        self._salt = ""
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget every webhook, channel and message; re-create the ``#incidents`` hook."""
        self._counters: Counter[str] = Counter()
        self.channels: dict[str, Channel] = {}
        self.webhooks: dict[str, Webhook] = {}
        self._messages: list[Message] = []
        self._last_us: dict[str, int] = {}
        self.default_webhook = self.create_webhook(DEFAULT_CHANNEL)

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state``."""
        return {
            "now": self.clock.now(),
            "default_webhook": self.default_webhook,
            "channels": [asdict(c) for c in self.channels.values()],
            "webhooks": [asdict(w) | {"path": w.path} for w in self.webhooks.values()],
            "messages": [asdict(m) for m in self._messages],
        }

    def rekey(self, salt: str) -> None:
        """Derive every webhook secret, those minted and those to come, from ``salt``
        (``drill serve``'s per-serve secret): the URLs change, their channels and
        messages stay. A webhook's secret is ``_digest(salt + unsalted secret)``. Raises
        ValueError when already salted (the URLs handed out would not follow)."""
        if self._salt:
            raise ValueError("the webhook secrets are already salted")
        self._salt = salt
        hooks, self.webhooks = list(self.webhooks.values()), {}
        for hook in hooks:
            old = hook.path
            hook.secret = self._salted(hook.secret)
            self.webhooks[hook.path] = hook
            if self.default_webhook == old:
                self.default_webhook = hook.path

    def create_webhook(self, channel: str) -> str:
        """A new webhook posting to ``channel`` (created if new); returns its URL path."""
        name = channel_name(channel)
        self.channels.setdefault(name, Channel(name))
        n = self._next("webhook")
        hook = Webhook(self.team_id, "B" + _digest(f"bot{n}", 10, _UPPER),
                       self._salted(_digest(f"secret{n}", 24)), name, self.clock.now())
        self.webhooks[hook.path] = hook
        return hook.path

    def _salted(self, secret: str) -> str:
        return _digest(self._salt + secret, 24) if self._salt else secret

    def revoke_webhook(self, path: str) -> None:
        """Remove a webhook: its URL answers ``no_service`` from now on; raises NoService."""
        self.webhook(path)
        del self.webhooks[path.rstrip("/")]

    def update_channel(self, channel: str, *, archived: bool | None = None,
                       posting_restricted: bool | None = None,
                       deleted: bool | None = None) -> Channel:
        """Archive, restrict or delete a channel (or undo it); creates unknown channels."""
        name = channel_name(channel)
        chan = self.channels.setdefault(name, Channel(name))
        for attr, value in (("archived", archived), ("posting_restricted", posting_restricted),
                            ("deleted", deleted)):
            if value is not None:
                setattr(chan, attr, bool(value))
        return chan

    # ---- the webhook API -------------------------------------------------------------

    def webhook(self, path: str) -> Webhook:
        """The webhook at a URL path; raises NoService for an unknown one."""
        hook = self.webhooks.get(path.rstrip("/"))
        if hook is None:
            raise NoService(f"no webhook at {path}")
        return hook

    def send_webhook(self, path: str, payload: Any) -> Message:
        """Post ``payload`` through the webhook at ``path``; returns the stored message.

        Raises NoService, InvalidPayload, NoText, ChannelNotFound, ChannelIsArchived or
        ActionProhibited, in that order of checking.
        """
        hook = self.webhook(path)
        return self.post_message(hook.channel, payload, hook.bot_id)

    def post_message(self, channel: str, payload: Any, poster: str) -> Message:
        """Post ``payload`` to ``channel`` (a name, with or without ``#``, or its id) as
        ``poster`` (a webhook's bot id, or the Web API's bot); returns the stored message.
        Raises InvalidPayload, NoText, ChannelNotFound (also for an unknown channel),
        ChannelIsArchived or ActionProhibited, in that order of checking."""
        body = check_payload(payload)
        chan = self._postable(self.channel_named(channel))
        thread_ts = body.get("thread_ts")
        message = Message(
            chan.name, self._ts(chan.name), self.clock.now(), body.get("text"), poster,
            body.get("blocks"), body.get("attachments"),
            None if thread_ts is None else str(thread_ts),
            {k: v for k, v in body.items()
             if k not in ("text", "blocks", "attachments", "thread_ts")})
        self._messages.append(message)
        return message

    def channel_named(self, channel: str) -> str:
        """The channel's name for a name or an id (``channel_id``); unknown ones as given."""
        by_id = {channel_id(n): n for n in self.channels}
        return by_id.get(channel.strip()) or channel_name(channel)

    def messages(self, channel: str | None = None) -> list[Message]:
        """Messages posted so far, oldest first, optionally only those in ``channel``."""
        if channel is None:
            return list(self._messages)
        name = channel_name(channel)
        return [m for m in self._messages if m.channel == name]

    # ---- internals -------------------------------------------------------------------

    def _postable(self, name: str) -> Channel:
        chan = self.channels.get(name)
        if chan is None or chan.deleted:
            raise ChannelNotFound()
        if chan.archived:
            raise ChannelIsArchived()
        if chan.posting_restricted:
            raise ActionProhibited()
        return chan

    def _ts(self, channel: str) -> str:
        # Slack's ts is Unix seconds with microseconds and unique within a channel.
        us = round(to_datetime(self.clock).timestamp() * 1_000_000)
        us = max(us, self._last_us.get(channel, -1) + 1)
        self._last_us[channel] = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _next(self, kind: str) -> int:
        self._counters[kind] += 1
        return self._counters[kind]


def channel_id(name: str) -> str:
    """A channel's Slack id (``C`` and 10 characters), derived from its name."""
    return "C" + _digest(f"channel{channel_name(name)}", 10, _UPPER)


def _digest(text: str, length: int, alphabet: str = _ALNUM) -> str:
    """``length`` characters of ``alphabet`` derived from ``text``: deterministic ids."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rem = divmod(number, len(alphabet))
        chars.append(alphabet[rem])
    return "".join(chars)
