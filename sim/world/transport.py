"""Control-plane HTTP inside a drill: a synchronous httpx transport onto in-process ASGI apps.

The rollback actions in ``rollout/`` are plain synchronous httpx code, the same code that
runs against real vendors or ``drill serve``. In a drill their requests are routed by
host name to the fakes' ASGI apps and run on one persistent event loop (≈0.25 ms a call),
never over a socket. Nothing here touches the data plane.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx


class InProcessTransport(httpx.BaseTransport):
    """Routes each request to the ASGI app registered for its host."""

    def __init__(self, apps: Mapping[str, Any]) -> None:
        self._loop = asyncio.new_event_loop()
        self._transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no fake is listening on {request.url.host}",
                                     request=request)
        self.calls += 1
        body = request.read()
        forwarded = httpx.Request(request.method, request.url, headers=request.headers,
                                  content=body, extensions=request.extensions)
        status, headers, content = self._loop.run_until_complete(
            _send(transport, forwarded))
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()


async def _send(transport: httpx.ASGITransport,
                request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    response = await transport.handle_async_request(request)
    content = await response.aread()
    await response.aclose()
    return response.status_code, list(response.headers.raw), content
