"""Calling a fake's ASGI app in-process from a synchronous test: no server, no socket.

``InProcessClient`` wraps ``httpx.AsyncClient`` over ``httpx.ASGITransport``: each call
runs on a fresh event loop and returns when the app has answered. ``request`` (and
``get``/``post``/``patch``/``delete``) sends one request; ``run`` hands a live client to
an async script, for tests that interleave several calls or race a streaming response
against the clock. ``headers`` go with every request (a vendor's token). Usage::

    api = InProcessClient(build_app(backend), "http://vercel.test",
                          headers={"Authorization": "Bearer drill_token"})
    assert api.get("/v9/projects").status_code == 200

The few end-to-end tests that need a real socket use ``tests.servers.serve_in_thread``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

Script = Callable[[httpx.AsyncClient], Awaitable[Any]]


class InProcessClient:
    """A synchronous face over one ASGI app, reached at ``base_url`` in-process."""

    def __init__(self, app: Any, base_url: str,
                 headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.base_url = base_url
        self.headers = dict(headers or {})

    def run(self, script: Script) -> Any:
        """``await script(client)`` on a client bound to the app; returns what it returns."""
        async def main() -> Any:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url,
                                         headers=self.headers) as client:
                return await script(client)

        return asyncio.run(main())

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request (``httpx.AsyncClient.request``'s arguments)."""
        response: httpx.Response = self.run(lambda c: c.request(method, url, **kwargs))
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)
