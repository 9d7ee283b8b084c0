"""Control-plane HTTP inside a drill: a synchronous httpx transport onto in-process ASGI apps.

The rollback actions in ``rollout/`` are plain synchronous httpx code, the same code that
runs against real vendors or ``drill serve``. In a drill their requests are routed by
host name to the fakes' ASGI apps and run on one persistent event loop (≈0.25 ms a call),
never over a socket. Nothing here touches the data plane. With a ``CallMeter`` each call
is timed in virtual time (``sim.world.latency``): it costs its caller a drawn latency.

Building the fakes' apps costs more than a whole drill, so ``reusable_apps`` builds each
host's app once per thread, over a stand-in (``Rebindable``) that every drill points at
its own backend and fault injector.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

import httpx

from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector
from sim.world.latency import CallMeter

AppSpec = tuple[Callable[[Any], Any], object, FaultInjector | None]  # (build, backend, faults)


class InProcessTransport(httpx.BaseTransport):
    """Routes each request to the ASGI app registered for its host; ``meter`` (optional)
    times the calls made inside one of its segments."""

    def __init__(self, apps: Mapping[str, Any] | None = None,
                 meter: CallMeter | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._transports: dict[str, httpx.ASGITransport] = {}
        self.calls = 0
        self.meter = meter
        self.mount(apps or {})

    def mount(self, apps: Mapping[str, Any]) -> None:
        """Serve each app at its host (replacing what served there)."""
        self._transports.update({host: httpx.ASGITransport(app=app)
                                 for host, app in apps.items()})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no fake is listening on {request.url.host}",
                                     request=request)
        self.calls += 1
        body = request.read()
        forwarded = httpx.Request(request.method, request.url, headers=request.headers,
                                  content=body, extensions=request.extensions)
        with self.meter.call(request.url.host) if self.meter else nullcontext():
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


class Rebindable:
    """Stands in for a backend inside an app built once and reused by later drills."""

    __slots__ = ("_target",)

    def __init__(self) -> None:
        object.__setattr__(self, "_target", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_target"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, value)

    def bind(self, target: object) -> None:
        object.__setattr__(self, "_target", target)


_APPS = threading.local()


def reusable_apps(specs: Mapping[str, AppSpec]) -> dict[str, Any]:
    """This thread's apps per host, rebound to the given backend and fault injector."""
    pool: dict[str, tuple[Any, Rebindable, Rebindable]] = _APPS.__dict__.setdefault("pool", {})
    for host, (build, backend, faults) in specs.items():
        if host not in pool:
            stand_in, injector = Rebindable(), Rebindable()
            app = build(stand_in)
            if faults is not None:
                install(app, injector)  # type: ignore[arg-type]
            pool[host] = (app, stand_in, injector)
        pool[host][1].bind(backend)
        pool[host][2].bind(faults)
    return {host: pool[host][0] for host in specs}
