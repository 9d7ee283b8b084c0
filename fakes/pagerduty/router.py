"""PagerDuty's Events API v2 over ``PagerDutyBackend``: two routes, no auth header.

``POST /v2/enqueue`` (alert events) and ``POST /v2/change/enqueue`` (change events)
answer 202; the routing key travels in the body. The real Python client (``pagerduty``)
only talks https: serve this app over TLS (``fakes.pagerduty.tls``) to use it.
Control plane: ``GET /_fake/state``, ``POST /_fake/reset``, ``GET /_fake/incidents``,
``GET /_fake/notifications``, ``POST /_fake/incidents/{dedup_key}/escalate`` ``{level?}``,
``POST /_fake/history`` (``fakes.pagerduty.history``). The REST API's read side (``GET
/incidents``, ``GET /log_entries``) is ``fakes.pagerduty.rest_api``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from fakes.common.app import make_app, read_json, route_both
from fakes.common.control import control_router
from fakes.pagerduty.backend import PagerDutyBackend
from fakes.pagerduty.errors import InvalidEvent, PagerDutyError
from fakes.pagerduty.history import history_router
from fakes.pagerduty.rest_api import rest_api_router


def build_app(backend: PagerDutyBackend) -> FastAPI:
    """The fake Events API as an ASGI app, errors in the Events API's shape."""
    app = make_app("fake PagerDuty Events API", InvalidEvent)
    app.include_router(build_router(backend))
    return app


def build_router(backend: PagerDutyBackend) -> APIRouter:
    """The two Events API routes plus the ``/_fake`` control plane."""
    router = APIRouter()

    @route_both(router, "/v2/enqueue", ["POST"])
    async def enqueue(request: Request) -> JSONResponse:
        dedup_key = backend.enqueue(await read_json(request, InvalidEvent))
        return JSONResponse({"status": "success", "message": "Event processed",
                             "dedup_key": dedup_key}, status_code=202)

    @route_both(router, "/v2/change/enqueue", ["POST"])
    async def enqueue_change(request: Request) -> JSONResponse:
        backend.enqueue_change(await read_json(request, InvalidEvent))
        return JSONResponse({"status": "success", "message": "Change event processed"},
                            status_code=202)

    router.include_router(rest_api_router(backend))  # GET /incidents, /log_entries
    router.include_router(_control_router(backend))
    router.include_router(history_router(backend))  # POST /_fake/history
    return router


def _control_router(backend: PagerDutyBackend) -> APIRouter:
    control = control_router(backend)

    @control.get("/incidents")
    async def incidents(status: str | None = None) -> list[dict[str, Any]]:
        return [asdict(i) for i in backend.incidents(status)]

    @control.get("/notifications")
    async def notifications(dedup_key: str | None = None) -> list[dict[str, Any]]:
        return [asdict(n) for n in backend.notifications(dedup_key)]

    @control.post("/incidents/{dedup_key}/escalate")
    async def escalate(dedup_key: str, request: Request) -> list[dict[str, Any]]:
        body = await read_json(request, InvalidEvent)
        level = body.get("level") if isinstance(body, dict) else None
        if level is not None and not isinstance(level, int):
            raise PagerDutyError("level must be an integer")
        try:
            sent = backend.escalate(dedup_key, level)
        except ValueError as exc:
            raise PagerDutyError(str(exc)) from exc
        return [asdict(n) for n in sent]

    return control
