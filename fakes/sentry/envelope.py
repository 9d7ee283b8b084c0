"""Sentry envelopes: parsing, writing, and what the fake reads out of their items.

An envelope is newline-delimited: a header line (JSON), then items, each an item-header
line ``{"type", "length"?, ...}`` and a payload. With ``length`` the payload is exactly
that many bytes (it may contain newlines), followed by a newline or the end; without it
the payload runs to the next newline. Anything else (a truncated payload, a header that
is not a JSON object, a missing newline after a sized payload) raises ``InvalidEnvelope``.

``parse_auth`` reads the public key from ``X-Sentry-Auth`` or a DSN; ``event_facts``
turns an ``event`` payload into the fields the fake groups issues by; ``session_update``
and ``session_aggregates`` read ``session`` and ``sessions`` payloads. Items without a
release are dropped, as Sentry drops them (release health needs a release).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fakes.common.clock import Clock, WallClock, from_client_iso, from_client_time
from fakes.sentry import sessions
from fakes.sentry.errors import InvalidEnvelope


@dataclass(frozen=True)
class Item:
    headers: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        return str(self.headers.get("type", ""))

    def json(self) -> dict[str, Any]:
        """The payload as a JSON object; raises InvalidEnvelope otherwise."""
        return _json_object(self.payload, f"{self.type} item payload")


@dataclass(frozen=True)
class Envelope:
    headers: dict[str, Any]
    items: list[Item]


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEnvelope(f"invalid envelope: {what} is not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InvalidEnvelope(f"invalid envelope: {what} is not a JSON object")
    return value


def _line(body: bytes, pos: int) -> tuple[bytes, int]:
    """The bytes up to the next newline (or the end) and the position after it."""
    end = body.find(b"\n", pos)
    if end < 0:
        return body[pos:], len(body)
    return body[pos:end], end + 1


def _sized_payload(body: bytes, pos: int, length: Any) -> tuple[bytes, int]:
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise InvalidEnvelope(f"invalid envelope: bad item length {length!r}")
    end = pos + length
    if end > len(body):
        raise InvalidEnvelope(
            f"invalid envelope: item payload truncated ({len(body) - pos} of {length} bytes)")
    if end < len(body) and body[end:end + 1] != b"\n":
        raise InvalidEnvelope("invalid envelope: missing newline after item payload")
    return body[pos:end], end + 1


def parse_envelope(body: bytes) -> Envelope:
    """Split an envelope into its header and items; raises InvalidEnvelope."""
    if not body.strip():
        raise InvalidEnvelope("invalid envelope: empty body")
    header_line, pos = _line(body, 0)
    headers = _json_object(header_line, "envelope header")
    items: list[Item] = []
    while pos < len(body):
        item_line, pos = _line(body, pos)
        if not item_line.strip() and pos >= len(body):
            break  # a trailing newline after the last item
        item_headers = _json_object(item_line, "item header")
        if not isinstance(item_headers.get("type"), str):
            raise InvalidEnvelope("invalid envelope: item header has no type")
        if "length" in item_headers:
            payload, pos = _sized_payload(body, pos, item_headers["length"])
        else:
            payload, pos = _line(body, pos)
        items.append(Item(item_headers, payload))
    return Envelope(headers, items)


def encode_envelope(headers: dict[str, Any], items: list[tuple[str, Any]]) -> bytes:
    """Write an envelope as sentry-python does: every item with its ``length``."""
    lines = [json.dumps(headers).encode()]
    for item_type, payload in items:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        lines.append(json.dumps({"type": item_type, "length": len(raw)}).encode())
        lines.append(raw)
    return b"\n".join(lines) + b"\n"


_AUTH_PAIR = re.compile(r"(\w+)\s*=\s*([^,\s]+)")


def parse_auth(header: str | None) -> dict[str, str]:
    """``Sentry sentry_key=abc, sentry_version=7`` → ``{"sentry_key": "abc", ...}``."""
    if not header:
        return {}
    text = header.strip()
    if text.lower().startswith("sentry "):
        text = text[7:]
    return dict(_AUTH_PAIR.findall(text))


def dsn_public_key(dsn: str | None) -> str | None:
    """The public key of a DSN ``scheme://public[:secret]@host/project``."""
    if not dsn:
        return None
    return urlsplit(str(dsn)).username or None


def virtual_time(clock: Clock, value: Any, default: float) -> float:
    """Virtual seconds of a payload timestamp: unix seconds (number) or ISO text, which
    the SDK stamped by its own clock (the wall, under ``drill serve``: mapped as the
    fake's clock maps the wall, ``clock.from_client_time``, so at ``--speed 60`` the
    sessions and events fall in the alert windows they were sent in)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_client_time(clock, float(value))
    if isinstance(value, str) and value:
        try:
            return from_client_iso(clock, value)
        except ValueError as exc:
            raise InvalidEnvelope(f"invalid envelope: bad timestamp {value!r}") from exc
    return default


@dataclass(frozen=True)
class EventFacts:
    """What the fake keeps of one error event."""

    event_id: str | None
    release: str
    environment: str
    timestamp: float
    exc_type: str
    value: str
    culprit: str
    level: str
    user: str | None
    unhandled: bool = False  # an exception's mechanism says ``handled: false``


def _culprit_from_frames(exception: dict[str, Any]) -> str:
    frames = (exception.get("stacktrace") or {}).get("frames") or []
    candidates = [f for f in frames if isinstance(f, dict)]
    candidates = [f for f in candidates if f.get("in_app")] or candidates
    if not candidates:
        return ""
    frame = candidates[-1]
    where = frame.get("module") or frame.get("filename") or "?"
    return f"{where} in {frame.get('function') or '?'}"


def _message(event: dict[str, Any]) -> str:
    message = event.get("message") or event.get("logentry") or ""
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message") or ""
    return str(message)


def _user_key(event: dict[str, Any]) -> str | None:
    user = event.get("user")
    if not isinstance(user, dict):
        return None
    for field in ("id", "username", "email", "ip_address"):
        if user.get(field):
            return f"{field}:{user[field]}"
    return None


def event_facts(event: dict[str, Any], clock: Clock) -> EventFacts:
    """Issue-grouping facts of an event: the last exception's type and value (Sentry's
    title), the culprit (given, the transaction, or the newest in-app frame); a message
    event groups by its message."""
    values = (event.get("exception") or {}).get("values") or []
    exception = values[-1] if values and isinstance(values[-1], dict) else None
    if exception is not None:
        exc_type = str(exception.get("type") or "Error")
        value = str(exception.get("value") or "")
        culprit = event.get("culprit") or event.get("transaction") or _culprit_from_frames(
            exception)
    else:
        exc_type, value = _message(event) or "<unlabeled event>", ""
        culprit = event.get("culprit") or event.get("transaction") or event.get("logger") or ""
    return EventFacts(
        event_id=event.get("event_id"),
        release=str(event.get("release") or ""),
        environment=str(event.get("environment") or "production"),
        timestamp=virtual_time(clock, event.get("timestamp"), clock.now()),
        exc_type=exc_type, value=value, culprit=str(culprit),
        level=str(event.get("level") or "error"), user=_user_key(event),
        unhandled=any(isinstance(v, dict) and (v.get("mechanism") or {}).get("handled") is False
                      for v in values))


Key = tuple[str, str]  # (release, environment)
# (release, environment), started, [exited, errored, crashed, abnormal]
SessionAggregate = tuple[Key, float, list[int]]
# Relay's SessionStatus (relay-event-schema, protocol/session.rs): ``unhandled`` is "had an
# unhandled error, but did not crash" — the browser SDK's status for an unhandled error
# (BrowserClient sets _unhandledSessionStatus = 'unhandled'); only crashed and abnormal
# are fatal, so an unhandled session counts as errored, never as crashed.
SESSION_COLUMNS = {"ok": sessions.HEALTHY, "exited": sessions.HEALTHY,
                   "errored": sessions.ERRORED, "unhandled": sessions.ERRORED,
                   "abnormal": sessions.ABNORMAL, "crashed": sessions.CRASHED}


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEnvelope(f"invalid envelope: bad session count {value!r}")
    return value


def _release_key(attrs: Any) -> Key | None:
    if not isinstance(attrs, dict) or not attrs.get("release"):
        return None
    return str(attrs["release"]), str(attrs.get("environment") or "production")


def session_update(payload: dict[str, Any], clock: Clock) -> tuple[str, Key, float, int] | None:
    """A ``session`` update as ``(sid, key, started, column)``: the column of its status
    (``ok`` with ``errors > 0`` is errored), ``started`` in virtual seconds."""
    key = _release_key(payload.get("attrs"))
    if key is None:
        return None
    status = payload.get("status", "ok")
    if status not in SESSION_COLUMNS:
        raise InvalidEnvelope(f"invalid envelope: unknown session status {status!r}")
    column = SESSION_COLUMNS[status]
    if column == sessions.HEALTHY and _count(payload.get("errors", 0)) > 0:
        column = sessions.ERRORED
    fallback = virtual_time(clock, payload.get("timestamp"), clock.now())
    started = virtual_time(clock, payload.get("started"), fallback)
    return str(payload.get("sid") or ""), key, started, column


def session_aggregates(payload: dict[str, Any], clock: Clock) -> list[SessionAggregate]:
    """The aggregates of a ``sessions`` item; raises InvalidEnvelope on bad counts."""
    aggregates = payload.get("aggregates") or []
    if not isinstance(aggregates, list):
        raise InvalidEnvelope("invalid envelope: sessions aggregates is not a list")
    key = _release_key(payload.get("attrs"))
    if key is None:
        return []
    parsed = []
    for agg in aggregates:
        if not isinstance(agg, dict) or "started" not in agg:
            raise InvalidEnvelope("invalid envelope: session aggregate without started")
        started = _aggregate_start(clock, virtual_time(clock, agg["started"], clock.now()))
        counts = [_count(agg.get(n, 0)) for n in ("exited", "errored", "crashed", "abnormal")]
        parsed.append((key, started, counts))
    return parsed


def _aggregate_start(clock: Clock, started: float) -> float:
    """Where a request-mode aggregate's sessions start. sentry-python floors an
    aggregate's ``started`` to the wall minute (``SessionFlusher.add_aggregate_session``
    keys it by ``session.truncated_started``, ``_minute_trunc`` of the start:
    getsentry/sentry-python ``sentry_sdk/sessions.py``, ``sentry_sdk/session.py``), so it
    says "started within this wall minute". On a clock
    ``speed`` times the wall that minute spans ``speed`` virtual minutes, and its start
    alone would put sessions just sent up to an hour back (at ``--speed 60``), out of a
    30-minute crash-rate window. They are put in the last virtual minute of that span
    that is not after their arrival: the SDK's one-minute truncation, as at speed 1 (where
    this is the minute's start)."""
    if not isinstance(clock, WallClock) or clock.speed <= 1:
        return started
    end = min(started + 60 * clock.speed, clock.now())
    return max(started, end - 60)
