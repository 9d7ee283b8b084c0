"""A fake's hot operations answered without the web framework, everything else by it.

``drill serve`` exists for load from the vendors' own clients, and most of that load is a
few operations (PostHog's capture, Sentry's envelope, Vercel's project read) whose cost
was mostly FastAPI's: routing, dependency solving, the response machinery. A router
declares those operations as ``FastRoute``s beside its FastAPI routes: the endpoint
name the request must reach (``fakes.common.route_index``, the same lookup that names
the operation for the fault checks), its method, and a plain function of a
``FastRequest`` that calls the same backend method the FastAPI handler calls.

``FastPath`` sits in the app inside ``FaultMiddleware`` (the fault rules are asked once,
before it, as for every request) and the vendor's CORS (which edits its answers' headers
as any other's), outside ``BodyLimit`` and ``HeadAsGet``. It hands the request, body
replayed, to the rest of the app unchanged whenever it is not plainly one of its routes'
happy paths: another route or method (HEAD included), no ``Content-Length`` on a body or
one over ``MAX_BODY``, a disconnect, or a handler that returns ``HANDOVER`` (a body that
does not decode, an option only the full handler reads). A ``FakeError`` the handler
raises (the backend's: it stores nothing when it refuses) is answered as ``make_app``'s
handler answers it (``error_response``). A result is serialized as FastAPI serializes
a handler's ``dict[str, Any]``: pydantic's ``dump_json``, ``application/json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from fakes.common.app import decode_body
from fakes.common.errors import FakeError
from fakes.common.limits import MAX_BODY, replay
from fakes.common.responses import error_response
from fakes.common.route_index import RouteIndex

HANDOVER: Any = object()  # a handler's answer: "let the full app answer this one"
_DICT = TypeAdapter(dict[str, Any])  # FastAPI's response field of a dict[str, Any] handler
_JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass
class FastRequest:
    """What a fast handler reads: path parameters, query string, headers (lower-case
    names, the first of repeated ones, as Starlette's ``Headers.get``), raw body."""

    path_params: dict[str, Any]
    query_string: bytes
    headers: dict[str, str]
    raw: bytes

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def json(self) -> Any:
        """The body, Content-Encoding undone, as JSON (``{}`` when blank); ``HANDOVER``
        when it does not decode or parse (the full app answers that in its own words)."""
        try:
            raw = decode_body(self.raw, self.headers.get("content-encoding"))
        except FakeError:
            return HANDOVER
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return HANDOVER


@dataclass(frozen=True)
class FastRoute:
    """``operation`` (the endpoint name) by ``method``, answered by ``handle``: a JSON
    object, or ``HANDOVER``; it may raise the vendor's ``FakeError``."""

    operation: str
    method: str
    handle: Callable[[FastRequest], Any]


class FastPath:
    """ASGI middleware: answers its ``routes`` directly, hands everything else over."""

    def __init__(self, app: Any, routes: Sequence[FastRoute]) -> None:
        self.app = app
        self.routes = {(r.method, r.operation): r for r in routes}
        self.index = RouteIndex()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route, params = self._route(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not _declared_size_ok(headers, scope["method"]):
            await self.app(scope, receive, send)
            return
        raw, first = await _read(receive)
        if first is not None:  # the rest of the app sees it as sent
            await self.app(scope, replay(raw, first, receive), send)
            return
        request = FastRequest(params, scope.get("query_string", b""), headers, raw)
        try:
            result = route.handle(request)
        except FakeError as exc:
            await error_response(exc)(scope, receive, send)
            return
        if result is HANDOVER:
            await self.app(scope, replay(raw, None, receive), send)
            return
        await _send_json(send, _DICT.dump_json(_DICT.validate_python(result,
                                                                      from_attributes=True)))

    def _route(self, scope: Any) -> tuple[FastRoute | None, dict[str, Any]]:
        if scope["type"] != "http" or not self.routes:
            return None, {}
        name, params = self.index.find(scope)
        return self.routes.get((scope["method"], name)), params


def _headers(scope: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        out.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
    return out


def _declared_size_ok(headers: dict[str, str], method: str) -> bool:
    """A GET needs no body; a POST's must be declared and within ``MAX_BODY`` (a chunked
    or oversized one is ``BodyLimit``'s to count or refuse)."""
    declared = headers.get("content-length")
    if declared is None:
        return method == "GET"
    declared = declared.strip()
    return declared.isdigit() and int(declared) <= MAX_BODY


async def _read(receive: Any) -> tuple[bytes, Any]:
    """The body, and the first message that is not a whole body: a disconnect, or (a
    caller sending more than it declared) what was read once past ``MAX_BODY``, for
    ``BodyLimit`` to count on."""
    body, more = bytearray(), True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body), message
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY:
            return b"", {"type": "http.request", "body": bytes(body), "more_body": more}
    return bytes(body), None


async def _send_json(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), *_JSON_HEADERS]})
    await send({"type": "http.response.body", "body": body})
