"""The control plane every fake shares: ``GET /_fake/state``, ``POST /_fake/reset`` and
``POST /_fake/clear``.

A fake's API impersonates a vendor; its control plane, apart from that API, lets a test
or a drill look at everything the backend holds (its secrets redacted: ``fakes.common.redact``)
and start it over. ``control_router``
writes the routes once over any backend with ``state()`` (JSON-ready) and
``reset()``; ``state_router`` serves the first alone, for a backend that has only
``state()``. A vendor adds its own control routes (Slack's webhooks, PagerDuty's
escalation…) to the router it gets back. The reset body is the vendor's: ``{"reset":
true}`` unless ``reset_reply`` says otherwise (Statuspage adds its default page id).
Handlers call the backend per request, so ``backend`` may be a stand-in rebound between
drills.

``/_fake/clear`` empties the backend (its ``reset()``: only the vendor's defaults left).
``/_fake/reset`` does the same, unless the host seeded a world and put a ``Seeded``
snapshot of it on the app (``app.state.fake_seeded``, as ``drill serve`` does): then it
restores the backend as seeded (the runbook's deployments, flag, alert rule, …), as
moto's reset returns a fake to its starting point.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fastapi import APIRouter, Request

from fakes.common.app import route_both
from fakes.common.redact import redact

PREFIX = "/_fake"


class InspectableBackend(Protocol):
    """A backend whose whole state can be read as JSON-ready data."""

    def state(self) -> dict[str, Any]: ...


class ResettableBackend(InspectableBackend, Protocol):
    """A backend that can also be started over."""

    def reset(self) -> None: ...


class Seeded:
    """The state a set of backends was seeded with, to start each over from.

    A deep copy of each backend's attributes is taken once seeding is done and copied
    again at every restore, so the snapshot stays as seeded. What backends share is kept,
    not copied: the backends themselves (one may hold another, or a bound method of it)
    and ``shared`` (the clock)."""

    def __init__(self, backends: Sequence[Any], shared: Sequence[Any] = ()) -> None:
        self._kept = [*backends, *shared]
        self._saved = {id(b): copy.deepcopy(vars(b), self._memo()) for b in backends}

    def _memo(self) -> dict[int, Any]:
        return {id(o): o for o in self._kept}

    def restore(self, backend: Any) -> bool:
        """Put ``backend`` back as seeded, in place; False when it was not snapshotted."""
        saved = self._saved.get(id(backend))
        if saved is None:
            return False
        fresh = copy.deepcopy(saved, self._memo())
        vars(backend).clear()
        vars(backend).update(fresh)
        return True


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
    """``state_router`` plus ``POST /reset`` (back to the seeded world when the app holds
    a ``Seeded`` snapshot, else empty) and ``POST /clear`` (empty: ``backend.reset()``),
    each answering ``reset_reply()``."""
    router = state_router(backend, both_slashes=both_slashes)

    async def reset(request: Request) -> dict[str, Any]:
        seeded = getattr(request.app.state, "fake_seeded", None)
        if not isinstance(seeded, Seeded) or not seeded.restore(backend):
            backend.reset()
        return reset_reply()

    async def clear() -> dict[str, Any]:
        backend.reset()
        return reset_reply()

    _add(router, "/reset", ["POST"], reset, both_slashes)
    _add(router, "/clear", ["POST"], clear, both_slashes)
    return router


def _add(router: APIRouter, path: str, methods: list[str], handler: Any,
         both_slashes: bool) -> None:
    if both_slashes:
        route_both(router, path, methods)(handler)
    else:
        router.add_api_route(path, handler, methods=methods)
