"""Statuspage's REST API v1 over ``StatuspageBackend``: routes, the key check, parsing.

Every ``/v1`` route needs ``Authorization: OAuth <api_key>`` (or ``?api_key=``); bodies
wrap their fields in ``{"incident": {…}}`` or ``{"component": {…}}``, as JSON or as the
form ``incident[name]=…`` of Statuspage's curl examples (``forms``). Paths may end in
``.json`` or ``/`` (Statuspage's docs use both styles); they are normalised before
routing. Each handler calls the backend method of its own name and serializes with
``payloads``. Control plane (no key): ``GET /_fake/state``, ``POST /_fake/reset``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from fakes.common.app import error_response, make_app
from fakes.common.control import control_router
from fakes.statuspage import payloads
from fakes.statuspage.backend import StatuspageBackend
from fakes.statuspage.errors import BadRequest, NotFound, StatuspageError
from fakes.statuspage.forms import form_bool, read_fields

PAGE = "/v1/pages/{page_id}"
_INCIDENT_FIELDS = ("status", "body", "name", "impact_override", "component_ids",
                    "components")


def build_app(backend: StatuspageBackend) -> FastAPI:
    """The fake Statuspage API as an ASGI app, errors as ``{"error": message}``."""
    app = make_app("fake Statuspage", BadRequest)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.add_middleware(NormalisePath)
    app.include_router(build_router(backend))
    return app


class NormalisePath:
    """Strip a trailing ``.json`` or ``/`` from ``/v1`` paths before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/v1/"):
            trimmed = path.rstrip("/").removesuffix(".json")
            if trimmed != path:
                scope = dict(scope, path=trimmed, raw_path=trimmed.encode())
        await self.app(scope, receive, send)


async def _routing_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(NotFound())
    return error_response(StatuspageError(str(exc.detail), status=exc.status_code))


def build_router(backend: StatuspageBackend) -> APIRouter:
    """The ``/v1`` routes (key required) plus the ``/_fake`` control plane."""
    async def check_key(request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "oauth":
            key = request.query_params.get("api_key", "")
        backend.authenticate(key.strip() or None)

    api = APIRouter(dependencies=[Depends(check_key)])
    _page_routes(api, backend)
    _incident_routes(api, backend)
    router = APIRouter()
    router.include_router(api)
    router.include_router(control_router(
        backend, reset_reply=lambda: {"reset": True, "default_page_id": backend.default_page_id}))
    return router


def _page_routes(api: APIRouter, backend: StatuspageBackend) -> None:
    @api.get("/v1/pages")
    async def list_pages() -> list[dict[str, Any]]:
        return [payloads.page(backend, p) for p in backend.list_pages()]

    @api.get(PAGE)
    async def get_page(page_id: str) -> dict[str, Any]:
        return payloads.page(backend, backend.get_page(page_id))

    @api.get(PAGE + "/components")
    async def list_components(page_id: str) -> list[dict[str, Any]]:
        return [payloads.component(backend, c) for c in backend.list_components(page_id)]

    @api.post(PAGE + "/components", status_code=201)
    async def create_component(page_id: str, request: Request) -> dict[str, Any]:
        fields = _wrapped(await read_fields(request), "component")
        component = backend.create_component(
            page_id, fields.get("name", ""), status=fields.get("status", "operational"),
            description=fields.get("description"))
        return payloads.component(backend, component)

    @api.get(PAGE + "/components/{component_id}")
    async def get_component(page_id: str, component_id: str) -> dict[str, Any]:
        return payloads.component(backend, backend.get_component(page_id, component_id))

    # One route per method: a two-method route gets one operationId for both.
    @api.patch(PAGE + "/components/{component_id}")
    @api.put(PAGE + "/components/{component_id}")
    async def update_component(page_id: str, component_id: str,
                               request: Request) -> dict[str, Any]:
        fields = _wrapped(await read_fields(request), "component")
        component = backend.update_component(
            page_id, component_id, status=fields.get("status"), name=fields.get("name"),
            description=fields.get("description"))
        return payloads.component(backend, component)


def _incident_routes(api: APIRouter, backend: StatuspageBackend) -> None:
    @api.get(PAGE + "/incidents")
    async def list_incidents(page_id: str, q: str | None = None, limit: int = 100,
                             page: int = 1) -> list[dict[str, Any]]:
        found = backend.list_incidents(page_id, q=q, limit=limit, page=page)
        return [payloads.incident(backend, i) for i in found]

    @api.get(PAGE + "/incidents/unresolved")
    async def list_unresolved_incidents(page_id: str, page: int = 1,
                                        per_page: int = 100) -> list[dict[str, Any]]:
        found = backend.list_unresolved_incidents(page_id, page=page, per_page=per_page)
        return [payloads.incident(backend, i) for i in found]

    @api.post(PAGE + "/incidents", status_code=201)
    async def create_incident(page_id: str, request: Request) -> dict[str, Any]:
        fields = _wrapped(await read_fields(request), "incident")
        incident = backend.create_incident(
            page_id, fields.get("name", ""), status=fields.get("status", "investigating"),
            **_incident_fields(fields, "body", "impact_override", "component_ids",
                               "components"),
            deliver_notifications=form_bool(fields.get("deliver_notifications")))
        return payloads.incident(backend, incident)

    @api.get(PAGE + "/incidents/{incident_id}")
    async def get_incident(page_id: str, incident_id: str) -> dict[str, Any]:
        return payloads.incident(backend, backend.get_incident(page_id, incident_id))

    # One route per method: a two-method route gets one operationId for both.
    @api.patch(PAGE + "/incidents/{incident_id}")
    @api.put(PAGE + "/incidents/{incident_id}")
    async def update_incident(page_id: str, incident_id: str,
                              request: Request) -> dict[str, Any]:
        fields = _wrapped(await read_fields(request), "incident")
        incident = backend.update_incident(
            page_id, incident_id, **_incident_fields(fields, *_INCIDENT_FIELDS),
            deliver_notifications=form_bool(fields.get("deliver_notifications")))
        return payloads.incident(backend, incident)

    @api.delete(PAGE + "/incidents/{incident_id}")
    async def delete_incident(page_id: str, incident_id: str) -> dict[str, Any]:
        return payloads.incident(backend, backend.delete_incident(page_id, incident_id))


def _wrapped(body: Any, key: str) -> dict[str, Any]:
    """The object under ``key``; raises BadRequest as Statuspage does when it is missing."""
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise BadRequest(f"{key} is missing")
    return inner


def _incident_fields(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: fields[n] for n in names if fields.get(n) is not None}
