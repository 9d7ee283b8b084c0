"""The HTTP face of ``fakes.common.faults``: fault checks on every route, and their
control plane under ``/_fake/``.

``install`` wraps an app in ``FaultMiddleware`` (which finds the operation a request
routes to, the route's endpoint name, and asks the injector whether it fails) and adds
``GET /_fake/faults`` (rules and the log of injected faults), ``POST /_fake/faults``
(``{"rules": [...]}`` replaces the rules; ``{"clear": true}`` removes them),
``POST /_fake/seed`` (``{"seed": n}``), ``GET/POST /_fake/timings``. Timings (build
duration, propagation delay…) are backend attributes that the control plane may set by
name, through the getter/setter pairs the caller hands in.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from fakes.common.app import error_response, read_json
from fakes.common.errors import FakeError, InvalidRequest
from fakes.common.faults import FaultInjector, FaultRule
from fakes.common.head import as_get
from fakes.common.route_index import RouteIndex

Timings = Mapping[str, tuple[Callable[[], float], Callable[[float], None]]]


def install(app: FastAPI, injector: FaultInjector, error_class: type[FakeError] | None = None,
            timings: Timings | None = None, real_latency: bool = False) -> None:
    """Add fault checks to every route of ``app`` and the ``/_fake`` fault control plane.

    With ``real_latency`` (``drill serve``) injected latency is slept on the event loop;
    in a drill it is only recorded, since virtual time cannot pass inside a request.
    Must be called before the app serves its first request.
    """
    shape: type[FakeError] = error_class or getattr(app.state, "fake_error_class", None) \
        or InvalidRequest
    app.include_router(_control(injector, timings or {}, shape))
    app.add_middleware(FaultMiddleware, injector=injector, error_class=shape,
                       real_latency=real_latency)


class FaultMiddleware:
    """ASGI middleware: finds the operation a request routes to (the endpoint name,
    ``fakes.common.route_index``) and applies the rules."""

    def __init__(self, app: Any, injector: FaultInjector, error_class: type[FakeError],
                 real_latency: bool) -> None:
        self.app = app
        self.injector = injector
        self.error_class = error_class
        self.real_latency = real_latency
        self.routes = RouteIndex()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_fake"):
            await self.app(scope, receive, send)
            return
        # A HEAD is the GET it mirrors (fakes.common.head): the GET's faults apply to it.
        rule, latency = self.injector.decide(self.routes.find(as_get(scope))[0])
        if self.real_latency and latency:
            await asyncio.sleep(latency)
        if rule is None:
            await self.app(scope, receive, send)
            return
        response = error_response(self.error_class(rule.message, status=rule.status))
        await response(scope, receive, send)


def _control(injector: FaultInjector, timings: Timings, shape: type[FakeError]) -> APIRouter:
    """The fault control routes; a bad body is a 400 in the vendor's shape (``shape``),
    and the rules in place stay as they were."""
    router = APIRouter(prefix="/_fake")

    def bad(message: str) -> FakeError:
        return shape(message, status=400)

    async def _json(request: Request) -> dict[str, Any]:
        body = await read_json(request, shape)
        if not isinstance(body, dict):
            raise bad("the body must be a JSON object")
        return body

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return injector.state()

    @router.post("/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        body = await _json(request)
        if body.get("clear"):
            injector.set_rules([])
        else:
            try:
                rules = [_rule(r) for r in _list(body.get("rules"), "rules")]
            except ValueError as exc:
                raise bad(str(exc)) from exc
            injector.set_rules(rules)
        return injector.state()

    @router.post("/seed")
    async def seed(request: Request) -> dict[str, Any]:
        value = (await _json(request)).get("seed")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad("seed must be a non-negative integer")
        injector.reseed(value)
        return {"seed": value}

    @router.get("/timings")
    async def get_timings() -> dict[str, float]:
        return {name: get() for name, (get, _) in timings.items()}

    @router.post("/timings")
    async def set_timings(request: Request) -> dict[str, float]:
        body = await _json(request)
        for name, value in body.items():
            if name not in timings:
                raise bad(f"unknown timing {name!r}; allowed: {', '.join(timings)}")
            if not _number(value) or value < 0:
                raise bad(f"{name} must be a finite number of seconds >= 0")
            timings[name][1](float(value))
        return {name: get() for name, (get, _) in timings.items()}

    return router


def _number(value: Any) -> bool:
    """A finite JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


# Each rule field's JSON type; ``None`` allowed where the field defaults to None.
_FIELD_TYPES: dict[str, tuple[str, bool]] = {
    "operation": ("string", False), "message": ("string", False),
    "status": ("integer", False), "error_rate": ("number", False),
    "latency": ("number", False), "outage_start": ("number", True),
    "outage_end": ("number", True), "active_from": ("number", True),
    "active_until": ("number", True)}


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list")
    return value


def _rule(raw: Any) -> FaultRule:
    """One rule from its JSON; raises ValueError naming the field and what is allowed
    (a string time or ``status: 503.5`` would otherwise fail every later request)."""
    if not isinstance(raw, dict):
        raise ValueError("each rule is a JSON object")
    unknown = set(raw) - set(_FIELD_TYPES)
    if unknown:
        raise ValueError(f"unknown rule fields {sorted(unknown)}; allowed: {sorted(_FIELD_TYPES)}")
    for name, value in raw.items():
        kind, nullable = _FIELD_TYPES[name]
        if value is None and nullable:
            continue
        if not _typed(value, kind):
            raise ValueError(f"rule field {name!r} must be a{'n' if kind[0] == 'i' else ''} "
                             f"{kind}{' or null' if nullable else ''}, got {value!r}")
    try:
        return FaultRule(**raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad rule: {exc}") from exc


def _typed(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return _number(value)
