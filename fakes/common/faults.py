"""Fault injection and lifecycle timings for any fake, under its ``/_fake/`` control plane.

A rule says which operation (the route's endpoint name, which is also the backend
method's: ``rollback_deployment``; or ``*``) fails how: a probability of answering with an
error status, an outage window in the fake's own clock time (every call fails), and an
added latency. Draws come from the injector's own seeded generator, so a run with the
same seed and the same calls fails the same calls. Injected errors take the vendor's
error shape (the app's error class). Timings (build duration, propagation delay…) are
backend attributes that the control plane may set by name.

Control plane added by ``install``:
``GET /_fake/faults`` (rules and the log of injected faults), ``POST /_fake/faults``
(``{"rules": [...]}`` replaces the rules; ``{"clear": true}`` removes them),
``POST /_fake/seed`` (``{"seed": n}``), ``GET/POST /_fake/timings``.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from fakes.common.clock import Clock
from fakes.common.errors import FakeError, InvalidRequest


@dataclass(frozen=True)
class FaultRule:
    """How one operation (or ``*``) misbehaves."""

    operation: str = "*"
    error_rate: float = 0.0
    status: int = 503
    message: str = "injected fault: service unavailable"
    outage_start: float | None = None
    outage_end: float | None = None
    latency: float = 0.0
    active_from: float | None = None
    active_until: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be within 0..1")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400..599)")
        if self.latency < 0 or not math.isfinite(self.latency):
            raise ValueError("latency must be >= 0 seconds")
        if (self.outage_start is None) != (self.outage_end is None):
            raise ValueError("give both outage_start and outage_end, or neither")
        if self.outage_start is not None and self.outage_end is not None \
                and self.outage_end <= self.outage_start:
            raise ValueError("outage_end must be after outage_start")

    def matches(self, operation: str) -> bool:
        return self.operation in ("*", operation)

    def active(self, t: float) -> bool:
        """Whether the rule applies at ``t`` (its ``active_from``/``active_until`` window)."""
        return (self.active_from is None or t >= self.active_from) and \
            (self.active_until is None or t < self.active_until)

    def in_outage(self, t: float) -> bool:
        return self.outage_start is not None and self.outage_end is not None \
            and self.outage_start <= t < self.outage_end


@dataclass
class Injection:
    """One fault that was injected: when, on which operation, what."""

    t: float
    operation: str
    kind: str  # "error" | "outage" | "latency"
    status: int | None = None


@dataclass
class FaultInjector:
    """The rules of one fake and the record of what they did."""

    clock: Clock
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    log: list[Injection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def set_rules(self, rules: list[FaultRule]) -> None:
        self.rules = list(rules)

    def decide(self, operation: str) -> tuple[FaultRule | None, float]:
        """The rule that fails this call now (or None) and the latency to add."""
        now = self.clock.now()
        latency = 0.0
        for rule in self.rules:
            if not rule.matches(operation) or not rule.active(now):
                continue
            latency += rule.latency
            if rule.in_outage(now):
                self.log.append(Injection(now, operation, "outage", rule.status))
                return rule, latency
            if rule.error_rate and self._rng.random() < rule.error_rate:
                self.log.append(Injection(now, operation, "error", rule.status))
                return rule, latency
        if latency:
            self.log.append(Injection(now, operation, "latency"))
        return None, latency

    def state(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [asdict(r) for r in self.rules],
                "injected": [asdict(i) for i in self.log]}


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
        from fakes.common.app import error_response

        response = error_response(self.error_class(rule.message, status=rule.status))
        await response(scope, receive, send)


def _operation(scope: Any) -> str:
    """The endpoint name of the route the request would reach (``""`` when none)."""
    app = scope.get("app")
    return _match(getattr(getattr(app, "router", None), "routes", ()), scope)


def _match(routes: Any, scope: Any) -> str:
    from starlette.routing import Match

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
    from fakes.common.app import read_json

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
