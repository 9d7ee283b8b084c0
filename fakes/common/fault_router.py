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
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.routing import Match

from fakes.common.app import error_response, read_json
from fakes.common.errors import FakeError, InvalidRequest
from fakes.common.faults import FaultInjector, FaultRule
from fakes.common.head import as_get

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
    app.include_router(_control(injector, timings or {}))
    app.add_middleware(FaultMiddleware, injector=injector, error_class=shape,
                       real_latency=real_latency)


class FaultMiddleware:
    """ASGI middleware: finds the operation a request routes to and applies the rules."""

    def __init__(self, app: Any, injector: FaultInjector, error_class: type[FakeError],
                 real_latency: bool) -> None:
        self.app = app
        self.injector = injector
        self.error_class = error_class
        self.real_latency = real_latency

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_fake"):
            await self.app(scope, receive, send)
            return
        rule, latency = self.injector.decide(_operation(scope))
        if self.real_latency and latency:
            await asyncio.sleep(latency)
        if rule is None:
            await self.app(scope, receive, send)
            return
        response = error_response(self.error_class(rule.message, status=rule.status))
        await response(scope, receive, send)


def _operation(scope: Any) -> str:
    """The endpoint name of the route the request would reach (``""`` when none)."""
    app = scope.get("app")
    # A HEAD is the GET it mirrors (fakes.common.head): the GET's faults apply to it.
    return _match(getattr(getattr(app, "router", None), "routes", ()), as_get(scope))


def _match(routes: Any, scope: Any) -> str:
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # FastAPI's included routers
        if callable(nested):
            name = _match(nested(), scope)
            if name:
                return name
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "name", "") or "")
    return ""


def _control(injector: FaultInjector, timings: Timings) -> APIRouter:
    router = APIRouter(prefix="/_fake")

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return injector.state()

    @router.post("/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        body = await _json(request)
        if body.get("clear"):
            injector.set_rules([])
        else:
            injector.set_rules([_rule(r) for r in _list(body.get("rules"), "rules")])
        return injector.state()

    @router.post("/seed")
    async def seed(request: Request) -> dict[str, Any]:
        value = (await _json(request)).get("seed")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidRequest("seed must be a non-negative integer")
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
                raise InvalidRequest(f"unknown timing {name!r}; allowed: {', '.join(timings)}")
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise InvalidRequest(f"{name} must be a number of seconds >= 0")
            timings[name][1](float(value))
        return {name: get() for name, (get, _) in timings.items()}

    return router


async def _json(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidRequest(f"{name} must be a list")
    return value


def _rule(raw: Any) -> FaultRule:
    if not isinstance(raw, dict):
        raise InvalidRequest("each rule is a JSON object")
    allowed = set(FaultRule.__dataclass_fields__)
    unknown = set(raw) - allowed
    if unknown:
        raise InvalidRequest(f"unknown rule fields {sorted(unknown)}; allowed: {sorted(allowed)}")
    try:
        return FaultRule(**raw)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"bad rule: {exc}") from exc
