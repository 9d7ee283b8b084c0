"""The fast path (``fakes.common.fast_path``) changes nothing a client or a drill sees.

Each test sends the same requests, as raw ASGI (so a body may be chunked, oversized by
its ``Content-Length``, or cut by a disconnect), to two apps of one vendor over two
backends seeded alike, both behind a fault injector with the same seeded rules: one app
as built, one with its ``FastPath`` taken out. Status, headers and body bytes must be
equal request by request, and so must the backends' ``/_fake/state`` and the injectors'
logs at the end.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from typing import Any

from fakes.common.clock import ManualClock
from fakes.common.descriptor import Start, Vendor
from fakes.common.fast_path import FastPath, FastRoute
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector, FaultRule
from fakes.common.limits import MAX_BODY
from fakes.posthog.vendor import POSTHOG
from fakes.sentry.vendor import SENTRY
from fakes.vercel.vendor import VERCEL, project_id
from sim.rng import Streams
from sim.scenario.loader import load_default

Request = tuple[str, str, bytes, list[tuple[str, str]], list[bytes] | None]
Answer = tuple[int | None, list[tuple[bytes, bytes]], bytes, str]  # …, what it raised


async def call(app: Any, request: Request) -> Answer:
    """One request as raw ASGI; ``chunks`` None is a disconnect before any body. What the
    app sent, and the name of the exception it raised (``""``: none)."""
    method, path, query, headers, chunks = request
    messages: list[dict[str, Any]] = (
        [{"type": "http.disconnect"}] if chunks is None else
        [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
         for i, c in enumerate(chunks)] or [{"type": "http.request", "body": b""}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query, "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("fake.test", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
    raised = ""
    try:
        await app(scope, receive, send)
    except Exception as exc:  # compared, not hidden: both apps must raise the same
        raised = type(exc).__name__
    start = next((m for m in sent if m["type"] == "http.response.start"),
                 {"status": None, "headers": []})
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"], [(k, v) for k, v in start["headers"] if k != b"date"], body,
            raised)


class Pair:
    """Two apps of ``vendor`` over like backends: ``fast`` as built, ``plain`` without
    its FastPath; ``answered`` counts the requests the fast path answered itself."""

    def __init__(self, vendor: Vendor[Any], rules: list[FaultRule]) -> None:
        self.answered = 0
        self.backends = [self._backend(vendor) for _ in range(2)]
        self.fast, self.plain = (vendor.app(b, False) for b in self.backends)
        self.plain.user_middleware = [m for m in self.plain.user_middleware
                                      if m.cls is not FastPath]
        for m in self.fast.user_middleware:
            if m.cls is FastPath:
                m.kwargs["routes"] = [self._counted(r) for r in m.kwargs["routes"]]
        for app in (self.fast, self.plain):
            install(app, FaultInjector(ManualClock(), seed=11, rules=list(rules)))

    @staticmethod
    def _backend(vendor: Vendor[Any]) -> Any:
        return vendor.create(Start(ManualClock(), load_default(), Streams(7).get))

    def _counted(self, route: FastRoute) -> FastRoute:
        def handle(request: Any) -> Any:
            self.answered += 1
            return route.handle(request)
        return FastRoute(route.operation, route.method, handle)

    def check(self, requests: list[Request]) -> None:
        """Every answer equal, then the backends' state and the fault logs."""
        async def run() -> None:
            for request in requests:
                assert await call(self.fast, request) == await call(self.plain, request), \
                    request[:3]
            for path in ("/_fake/state", "/_fake/faults"):
                get: Request = ("GET", path, b"", [], [])
                fast, plain = await call(self.fast, get), await call(self.plain, get)
                assert fast == plain and fast[0] == 200, path
        asyncio.run(run())


def json_body(value: Any) -> list[bytes]:
    return [json.dumps(value).encode()]


def sized(body: list[bytes] | None, *headers: tuple[str, str]) -> list[tuple[str, str]]:
    """``headers`` with the Content-Length of ``body`` (as clients send it)."""
    length = sum(map(len, body or []))
    return [("content-length", str(length)), *headers]


def cases(path: str, method: str, good: list[bytes],
          extra: list[tuple[str, str]]) -> list[Request]:
    """The spread every fast route gets: the happy request, the other slash, HEAD, an
    Origin, gzip and broken gzip and unknown encodings, bad JSON, a chunked body, a
    declared oversize body, a disconnect."""
    other = path[:-1] if path.endswith("/") else path + "/"
    whole = b"".join(good)
    zipped = [gzip.compress(whole)]
    return [
        (method, path, b"", sized(good, *extra), good),
        (method, other, b"", sized(good, *extra), good),
        ("HEAD", path, b"", extra, []),
        ("OPTIONS", path, b"", [("origin", "https://app.test"),
                                ("access-control-request-method", method)], []),
        (method, path, b"", sized(good, ("origin", "https://app.test"), *extra), good),
        (method, path, b"", sized(zipped, ("content-encoding", "gzip"), *extra), zipped),
        (method, path, b"", sized([b"\x1f\x8bnot"], ("content-encoding", "gzip"), *extra),
         [b"\x1f\x8bnot"]),
        (method, path, b"", sized(good, ("content-encoding", "snappy"), *extra), good),
        (method, path, b"", sized([b"{nope"], *extra), [b"{nope"]),
        (method, path, b"", extra, [whole[:5], whole[5:]]),
        (method, path, b"", [("content-length", str(MAX_BODY + 1)), *extra], good),
        (method, path, b"", sized(good, *extra), None),
    ]


def test_posthog_capture_answers_as_the_full_app() -> None:
    """Rule: PostHog's capture (every path, batch or single event, good and bad keys,
    posthog-js's compression and form bodies, injected faults) answers byte for byte as
    without the fast path, and stores the same events."""
    pair = Pair(POSTHOG, [FaultRule("capture", error_rate=0.3, status=503)])
    key = pair.backends[0].project_api_key
    event = {"api_key": key, "event": "$pageview", "distinct_id": "u1",
             "properties": {"$current_url": "/contacts"}}
    json_type = ("content-type", "application/json")
    form = [b"data=" + base64.b64encode(json.dumps(event).encode())]
    requests = cases("/i/v0/e/", "POST", json_body(event), [json_type])
    for path in ("/batch/", "/capture", "/e/", "/track/"):
        requests.append(("POST", path, b"", sized(json_body(event)), json_body(event)))
    for body in ({**event, "api_key": "phc_wrong"}, {"api_key": key, "batch": []},
                 {"batch": []}, {"api_key": key, "batch": [event, {**event, "event": ""}]},
                 [event], "text", {"api_key": key, "batch": [event] * 3}):
        requests.append(("POST", "/batch/", b"", sized(json_body(body)), json_body(body)))
    requests += [
        ("POST", "/e/", b"compression=gzip-js", sized([gzip.compress(json_body(event)[0])]),
         [gzip.compress(json_body(event)[0])]),
        ("POST", "/e/", b"", sized(form, ("content-type", "application/x-www-form-urlencoded")),
         form),
        ("GET", "/i/v0/e/", b"", [], [])]
    pair.check(requests * 3)  # thrice: the fault rule fails some of them, not others
    assert pair.answered > 20
    over = [b"{" + b" " * MAX_BODY, b"}"]  # more than it declares, and over the limit
    pair.check([("POST", "/batch/", b"", [("content-length", "2")], over)])


def test_sentry_envelope_answers_as_the_full_app() -> None:
    """Rule: a Sentry envelope (key in X-Sentry-Auth, in ?sentry_key= or only in the
    envelope's dsn; wrong keys and projects, bad envelopes, injected faults) answers
    byte for byte as without the fast path, and stores the same events."""
    pair = Pair(SENTRY, [FaultRule("ingest_envelope", error_rate=0.3, status=429)])
    sentry = pair.backends[0]
    eid = "9ec79c33ec9942ab8353589fcb2e04dc"

    def envelope(headers: dict[str, Any], *items: dict[str, Any]) -> list[bytes]:
        lines = [json.dumps(headers)]
        for item in items:
            lines += [json.dumps({"type": "event"}), json.dumps(item)]
        return ["\n".join(lines).encode() + b"\n"]

    event = {"event_id": eid, "level": "error", "platform": "python",
             "exception": {"values": [{"type": "Error", "value": "boom"}]}}
    good = envelope({"event_id": eid}, event)
    auth = ("x-sentry-auth", f"Sentry sentry_version=7, sentry_key={sentry.public_key}")
    path = f"/api/{sentry.project_id}/envelope/"
    requests = cases(path, "POST", good, [auth])
    dsn_only = envelope({"dsn": sentry.dsn("http://sentry.test")}, event)
    for p, q, headers, body in [
            (path, b"", [], dsn_only), (path, b"", [], good),
            (path, f"sentry_key={sentry.public_key}".encode(), [], good),
            (path, b"", [("x-sentry-auth", "Sentry sentry_key=wrong")], good),
            (f"/api/{sentry.project_id + 1}/envelope/", b"", [auth], good),
            (f"/api/0{sentry.project_id}/envelope/", b"", [auth], good),
            ("/api/abc/envelope/", b"", [auth], good),
            (path, b"", [auth], [b"not an envelope\n{"]),
            (path, b"", [auth], envelope({}, {"event_id": "x", "timestamp": "never"})),
            (path, b"", [auth], envelope({}, {**event, "event_id": None}))]:
        requests.append(("POST", p, q, sized(body, *headers), body))
    pair.check(requests * 3)
    assert pair.answered > 20


def test_vercel_project_read_answers_as_the_full_app() -> None:
    """Rule: Vercel's project read (any version, id or name, good and bad tokens,
    unknown projects, a bad version, injected faults) answers byte for byte as without
    the fast path, and leaves the same state."""
    pair = Pair(VERCEL, [FaultRule("get_project", error_rate=0.3, status=500)])
    vercel = pair.backends[0]
    token = ("authorization", f"Bearer {vercel.token}")
    pid = project_id(vercel)
    requests = cases(f"/v9/projects/{pid}", "GET", [], [token])
    for path, query, headers in [
            (f"/v1/projects/{pid}", b"teamId=team_x", [token]),
            ("/v9/projects/contacts-web", b"", [token]),
            (f"/v9/projects/{pid}", b"", []),
            (f"/v9/projects/{pid}", b"", [("authorization", "Bearer nope")]),
            (f"/v9/projects/{pid}", b"", [("authorization", f"Basic {vercel.token}")]),
            ("/v9/projects/prj_none", b"", [token]),
            (f"/x9/projects/{pid}", b"", [token]),
            (f"/v9/projects/{pid}", b"", [token, ("authorization", "Bearer nope")])]:
        requests.append(("GET", path, query, headers, []))
    pair.check(requests * 3)
    assert pair.answered > 20
