"""Pulse's REST API over ``PulseBackend``: routes, key extraction, encoding; no rules.

Pulse has no public spec; this is the API the fake defines, shaped like the CRMs a
contacts sync usually meets (Stripe-style errors and lists, keyset cursors).

Authentication: ``Authorization: Bearer <key>`` or ``X-Pulse-Api-Key: <key>`` on every
``/v1`` route but ``/v1/health``. Every response carries ``X-Request-Id``; API responses
carry ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds
until the key's token bucket is full). Errors are
``{"error": {"type", "message", "request_id", "param"?}}`` with types
``invalid_request_error`` (400), ``authentication_error`` (401), ``not_found_error``
(404), ``rate_limit_error`` (429, with ``Retry-After``), ``api_error`` (500/502/503) and
``timeout_error`` (504).

``GET /v1/contacts?updated_since=<ISO-8601>&limit=<1..200, default 50>&cursor=<opaque>``
    ``{"object": "list", "data": [contact…], "has_more": bool, "next_cursor": str|null}``.
    Contacts with ``updated_at >= updated_since`` (inclusive: a sync that passes its last
    watermark may see the boundary contact again), ordered by ``(updated_at, id)``.
    Pass ``next_cursor`` back as ``cursor`` for the next page; the cursor carries the
    query, so ``updated_since`` is ignored beside it. Paging is keyset-based: a contact
    updated while a client pages moves behind the cursor and shows up again, never
    skipped. A cursor the API did not write, a limit outside 1..200 or a timestamp that
    is not ISO-8601 is a 400 naming the ``param``.
``GET /v1/contacts/{id}``
    One contact, or 404. A contact is ``{"id": "pc_000123", "object": "contact",
    "first_name", "last_name", "email", "phone", "company", "title", "tags": [str],
    "owner_id", "created_at", "updated_at", "lifecycle_stage", "custom_fields": {…}}``;
    times are ISO-8601 UTC with milliseconds.
``GET /v1/account``
    ``{"object": "account", "id", "name", "plan", "api_version", "contacts_count",
    "rate_limit": {"limit", "per_second", "remaining"}, "time"}``. **This is what the
    app's ``pulseContactService.testConnection()`` calls**: it proves the key as well as
    reachability (health needs no key), costs one token, and ``contacts_count`` lets a
    sync reconcile what it fetched against what Pulse holds.
``GET /v1/health`` (no key)
    ``{"status": "ok"|"degraded"|"down", "version", "time"}``; 200, or 503 when down.
    Only transport faults show here; data faults (malformed, mis-mapped, missing,
    corrupted records) leave health ``ok``, as on a real status page.

Timeouts: the backend cannot sleep, so a ``timeout`` fault makes it raise
``PulseTimeout`` (the virtual seconds the call would have hung), answered as a 504 with
``X-Pulse-Simulated-Latency``; a drill's client charges that time to its own clock. Only
when the fault sets ``real_latency`` does this router first wait
``min(real_latency, 2 s)`` of real time, for ``drill serve`` users who want to see a
client's timeout fire; drills leave it at 0 and never wait.

Control plane (no key): ``GET /_fake/state``; ``POST /_fake/reset``; ``POST /_fake/seed``
``{"seed": int, "contacts": int?}``; ``GET /_fake/faults`` → ``{"faults": [...],
"injected": [...]}``; ``POST /_fake/faults`` with ``{"clear": true | [id or kind…],
"faults": [{"kind", "start"?, "end"?, "ops"?, …params}]}`` (clear first, then add; see
``fakes.pulse.faults`` for kinds and params) → ``{"cleared": [ids], "faults": [set…]}``;
``GET /_fake/contacts/{id}`` → the contact as stored, no fault applied.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.common.app import error_response, make_app, read_json, route_both
from fakes.common.control import control_router
from fakes.pulse import payloads
from fakes.pulse.backend import PulseBackend
from fakes.pulse.errors import InvalidRequest, PulseError, PulseTimeout
from fakes.pulse.models import Reply

REAL_LATENCY_CAP = 2.0  # seconds of real time a timeout may hold a request, at most


def build_app(backend: PulseBackend) -> FastAPI:
    """The fake Pulse API as an ASGI app, errors in Pulse's shape with a request id."""
    app = make_app("fake Pulse", InvalidRequest)

    async def handle_pulse(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, PulseError)
        if isinstance(exc, PulseTimeout) and exc.real_latency > 0:
            await asyncio.sleep(min(exc.real_latency, REAL_LATENCY_CAP))
        return _render_error(backend, exc)

    async def handle_routing(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return _render_error(backend, PulseError(str(exc.detail), status=exc.status_code,
                                                 code=kind))

    async def handle_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _render_error(backend, InvalidRequest(f"{where}: {first.get('msg')}"))

    app.add_exception_handler(PulseError, handle_pulse)
    app.add_exception_handler(StarletteHTTPException, handle_routing)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.include_router(build_router(backend))
    return app


def build_router(backend: PulseBackend) -> APIRouter:
    """The ``/v1`` API routes plus the ``/_fake`` control plane."""
    router = APIRouter()
    router.include_router(_api_router(backend))
    router.include_router(_control_router(backend))
    return router


def _api_router(backend: PulseBackend) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @route_both(api, "/contacts", ["GET"])
    async def list_contacts(request: Request, updated_since: str | None = None,
                            limit: str | None = None, cursor: str | None = None) -> Response:
        return _send(backend.list_contacts(_api_key(request), updated_since=updated_since,
                                           limit=limit, cursor=cursor))

    @api.get("/contacts/{contact_id}")
    async def get_contact(request: Request, contact_id: str) -> Response:
        return _send(backend.get_contact(_api_key(request), contact_id))

    @route_both(api, "/account", ["GET"])
    async def get_account(request: Request) -> Response:
        return _send(backend.get_account(_api_key(request)))

    @route_both(api, "/health", ["GET"])
    async def health() -> Response:
        return _send(backend.health())

    return api


def _control_router(backend: PulseBackend) -> APIRouter:
    control = control_router(backend)

    @control.post("/seed")
    async def seed(request: Request) -> dict[str, Any]:
        body = _object(await read_json(request, InvalidRequest))
        value = body.get("seed")
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest("seed must be an integer", param="seed")
        backend.seed(value, contacts=body.get("contacts"))
        return {"seed": backend.seed_value, "contacts": backend.size}

    @control.get("/faults")
    async def faults() -> dict[str, Any]:
        now = backend.clock.now()
        return {"faults": [f.to_json(now) for f in backend.faults()],
                "injected": [e.to_json() for e in backend.injected_faults()]}

    @control.post("/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        body = _object(await read_json(request, InvalidRequest))
        specs, clear = body.get("faults", []), body.get("clear", False)
        if not isinstance(specs, list):
            raise InvalidRequest("faults must be a list of fault objects", param="faults")
        if not (isinstance(clear, bool) or (isinstance(clear, list)
                                            and all(isinstance(c, str) for c in clear))):
            raise InvalidRequest("clear must be true, false or a list of ids or kinds",
                                 param="clear")
        cleared = backend.clear_faults(None if clear is True else clear) if clear else []
        now = backend.clock.now()
        return {"cleared": [f.id for f in cleared],
                "faults": [f.to_json(now) for f in backend.set_faults(specs)]}

    @control.get("/contacts/{contact_id}")
    async def truth(contact_id: str) -> dict[str, Any]:
        return backend.truth(contact_id).to_json(backend.clock)

    return control


def _api_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer`` or, failing that, ``X-Pulse-Api-Key``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-pulse-api-key", "").strip() or None


def _send(reply: Reply) -> Response:
    return Response(payloads.encode(reply), status_code=reply.status,
                    media_type="application/json", headers=reply.headers)


def _render_error(backend: PulseBackend, exc: PulseError) -> Response:
    """Pulse's error body; errors raised outside a call get a request id here."""
    if exc.request_id is None:
        exc.request_id = backend.next_request_id()
        exc.headers = {**exc.headers, "X-Request-Id": exc.request_id}
    return error_response(exc)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body
