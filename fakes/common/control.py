"""The control plane every fake shares: ``GET /_fake/state`` and ``POST /_fake/reset``.

A fake's API impersonates a vendor; its control plane, apart from that API, lets a test
or a drill look at everything the backend holds (its secrets redacted: ``fakes.common.redact``)
and start it over. ``control_router``
writes the two routes once over any backend with ``state()`` (JSON-ready) and
``reset()``; ``state_router`` serves the first alone, for a backend that has only
``state()``. A vendor adds its own control routes (Slack's webhooks, PagerDuty's
escalation…) to the router it gets back. The reset body is the vendor's: ``{"reset":
true}`` unless ``reset_reply`` says otherwise (Statuspage adds its default page id).
Handlers call the backend per request, so ``backend`` may be a stand-in rebound between
drills.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter

from fakes.common.app import route_both
from fakes.common.redact import redact

PREFIX = "/_fake"


class InspectableBackend(Protocol):
    """A backend whose whole state can be read as JSON-ready data."""

    def state(self) -> dict[str, Any]: ...


class ResettableBackend(InspectableBackend, Protocol):
    """A backend that can also be started over."""

    def reset(self) -> None: ...


def reset_done() -> dict[str, Any]:
    """The default answer to ``POST /_fake/reset``."""
    return {"reset": True}


def state_router(backend: InspectableBackend, *, both_slashes: bool = False) -> APIRouter:
    """An ``APIRouter`` under ``/_fake`` with ``GET /state`` alone (a backend that cannot
    be started over). With ``both_slashes`` the path also answers with its trailing
    slash, like the rest of that vendor's API."""
    router = APIRouter(prefix=PREFIX)

    async def state() -> dict[str, Any]:
        shown: dict[str, Any] = redact(backend.state())
        return shown

    _add(router, "/state", ["GET"], state, both_slashes)
    return router


def control_router(backend: ResettableBackend, *,
                   reset_reply: Callable[[], dict[str, Any]] = reset_done,
                   both_slashes: bool = False) -> APIRouter:
    """``state_router`` plus ``POST /reset``, which resets ``backend`` and answers
    ``reset_reply()``."""
    router = state_router(backend, both_slashes=both_slashes)

    async def reset() -> dict[str, Any]:
        backend.reset()
        return reset_reply()

    _add(router, "/reset", ["POST"], reset, both_slashes)
    return router


def _add(router: APIRouter, path: str, methods: list[str], handler: Any,
         both_slashes: bool) -> None:
    if both_slashes:
        route_both(router, path, methods)(handler)
    else:
        router.add_api_route(path, handler, methods=methods)
