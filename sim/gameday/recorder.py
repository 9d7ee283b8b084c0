"""The responder's timeline: every call the served fakes saw, with its time and source.

``CallRecorder`` wraps a fake's ASGI app as it is served to people during a game day. It
runs each request under the drill's lock (the simulation does not step while a person's
call changes the fakes), one request at a time per server, after ``catch_up`` has brought
the simulation to the live clock's time, and records the call: the virtual time the fake
stamped it with, the service, method, path (a secret in it, the Slack webhook's last
segment, scrubbed as ``/_fake/state`` scrubs it), status, and its
source — the client named by its ``User-Agent`` (the vercel CLI, netlify-cli, curl,
posthog-python, sentry-sdk, …) or an ``X-Drill-Source`` header a script sets. Calls that
can change state (anything but GET, HEAD and OPTIONS) are handed to ``on_change`` as
they complete, still under the lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from fakes.common.clock import Clock
from fakes.common.redact import scrub

READS = frozenset({"GET", "HEAD", "OPTIONS"})
# User-Agent prefixes of the tools a person responds with, most specific first
AGENTS = (("vercel", "vercel CLI"), ("netlify", "netlify CLI"), ("curl", "curl"),
          ("posthog-python", "posthog-python"), ("sentry.python", "sentry-sdk"),
          ("sentry-cli", "sentry-cli"), ("python-httpx", "httpx"),
          ("python-requests", "requests"), ("mozilla", "browser"), ("node", "node"))


@dataclass(frozen=True)
class Call:
    """One call a served fake answered."""

    t: float
    service: str
    method: str
    path: str
    status: int
    source: str
    agent: str

    @property
    def changes(self) -> bool:
        """Whether the call could change the fake's state (not a read) and was accepted."""
        return self.method not in READS and self.status < 400

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "t": round(self.t, 3)}


def source_of(headers: dict[str, str]) -> str:
    """Who made a call: ``X-Drill-Source`` when set, else the client its User-Agent names."""
    given = headers.get("x-drill-source")
    if given:
        return given[:100]
    agent = headers.get("user-agent", "").lower()
    return next((name for prefix, name in AGENTS if agent.startswith(prefix)),
                agent.split("/")[0][:40] or "unknown")


class CallRecorder:
    """An ASGI wrapper: serialise, lock, time and record each HTTP call to ``app``."""

    def __init__(self, app: Any, service: str, clock: Clock, lock: threading.Lock,
                 calls: list[Call], on_change: Callable[[Call], None],
                 catch_up: Callable[[], None] = lambda: None,
                 secrets: set[str] | None = None) -> None:
        self.app, self.service, self.clock, self.lock = app, service, clock, lock
        self.calls, self.on_change, self.catch_up = calls, on_change, catch_up
        self.secrets = secrets or set()  # scrubbed from recorded paths (the Slack webhook's)
        self._one = asyncio.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        async with self._one:  # one at a time: the drill's lock is not re-entrant
            await asyncio.to_thread(self.lock.acquire)
            try:
                # the fake sees the time the call lands at; off the event loop, since the
                # events run may make the drill's own in-process calls (their own loop)
                await asyncio.to_thread(self.catch_up)
                t = self.clock.now()
                await self.app(scope, receive, sending)
                self._record(scope, t, status[0])
            finally:
                self.lock.release()

    def _record(self, scope: dict[str, Any], t: float, status: int) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        path = scrub(scope["path"], self.secrets) if self.secrets else scope["path"]
        call = Call(t, self.service, scope["method"], path, status,
                    source_of(headers), headers.get("user-agent", "")[:200])
        self.calls.append(call)
        if call.changes:
            self.on_change(call)
