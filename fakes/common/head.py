"""HEAD on every GET route: the GET's status and headers, without its body.

HTTP requires it (RFC 9110 §9.3.2: "The HEAD method is identical to GET except that
the server MUST NOT send content in the response"), and the real services answer it:
``curl -I``, uptime checks and load balancers probe with HEAD. FastAPI's ``APIRoute``
(unlike Starlette's ``Route``) does not add HEAD to a GET route, so every fake answered
405. ``HeadAsGet`` runs a HEAD as the GET it mirrors and drops the body, keeping the
GET's ``Content-Length``; a route that declares HEAD itself (Docker's ``/_ping``) is
left to answer it.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a HEAD with no HEAD route of its own is served as GET, bodiless."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or _declares_head(scope):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return  # the GET's body is not sent; only its end
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, headers_only)


def as_get(scope: Scope) -> Scope:
    """``scope`` with a HEAD turned into the GET it mirrors (for route lookups)."""
    return dict(scope, method="GET") if scope.get("method") == "HEAD" else scope


def _declares_head(scope: Scope) -> bool:
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", ())
    return _full_match(routes, scope)


def _full_match(routes: Any, scope: Scope) -> bool:
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # FastAPI's included routers
        if callable(nested):
            if _full_match(nested(), scope):
                return True
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False
