"""Fault injection under /_fake/: per-operation errors, outage windows, seeded, vendor-shaped."""

from __future__ import annotations

from typing import Any

import httpx

from fakes.common.clock import ManualClock
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector, FaultRule
from fakes.vercel.backend import VercelBackend
from fakes.vercel.errors import VercelError
from fakes.vercel.router import build_app
from tests.fakes.clients import InProcessClient

AUTH = {"Authorization": "Bearer drill_token"}


def vercel_app(clock: ManualClock, seed: int = 0) -> tuple[Any, FaultInjector, VercelBackend]:
    backend = VercelBackend(clock, token="drill_token")
    backend.create_project("contacts-web")
    app = build_app(backend)
    injector = FaultInjector(clock, seed)
    install(app, injector, VercelError, timings={
        "alias_propagation": (lambda: backend.alias_propagation,
                              lambda v: setattr(backend, "alias_propagation", v))})
    return app, injector, backend


def call(app: Any, method: str, path: str, **kw: Any) -> httpx.Response:
    return InProcessClient(app, "http://vercel.test").request(method, path, **kw)


def test_rule_on_one_operation_fails_only_that_operation_in_vendor_shape() -> None:
    """error_rate 1 on get_auth_user: /v2/user answers 503 in Vercel's shape, others work."""
    app, injector, _ = vercel_app(ManualClock())
    injector.set_rules([FaultRule(operation="get_auth_user", error_rate=1.0)])
    failed = call(app, "GET", "/v2/user", headers=AUTH)
    assert failed.status_code == 503
    assert failed.json()["error"]["message"].startswith("injected fault")
    assert call(app, "GET", "/v9/projects/contacts-web", headers=AUTH).status_code == 200
    assert [i.operation for i in injector.log] == ["get_auth_user"]


def test_outage_window_follows_the_fake_clock() -> None:
    """Every call fails inside [outage_start, outage_end) of the fake's clock, none outside."""
    clock = ManualClock()
    app, injector, _ = vercel_app(clock)
    injector.set_rules([FaultRule(outage_start=10, outage_end=20, status=502)])
    assert call(app, "GET", "/v2/user", headers=AUTH).status_code == 200
    clock.set(15)
    assert call(app, "GET", "/v2/user", headers=AUTH).status_code == 502
    clock.set(20)
    assert call(app, "GET", "/v2/user", headers=AUTH).status_code == 200


def test_same_seed_fails_the_same_calls() -> None:
    """With error_rate 0.5, the same seed fails the same sequence of calls."""
    def pattern(seed: int) -> list[int]:
        app, injector, _ = vercel_app(ManualClock(), seed)
        injector.set_rules([FaultRule(error_rate=0.5)])
        return [call(app, "GET", "/v2/user", headers=AUTH).status_code for _ in range(24)]

    assert pattern(4) == pattern(4)
    assert pattern(4) != pattern(5)
    assert set(pattern(4)) == {200, 503}


def test_control_plane_sets_clears_seeds_and_rejects_bad_rules() -> None:
    """POST /_fake/faults replaces rules, rejects unknown fields with 400, and clears."""
    app, _, _ = vercel_app(ManualClock())
    ok = call(app, "POST", "/_fake/faults",
              json={"rules": [{"operation": "get_auth_user", "error_rate": 1}]})
    assert ok.status_code == 200 and ok.json()["rules"][0]["operation"] == "get_auth_user"
    bad = call(app, "POST", "/_fake/faults", json={"rules": [{"rate": 1}]})
    assert bad.status_code == 400 and "allowed" in bad.json()["error"]["message"]
    too_high = call(app, "POST", "/_fake/faults", json={"rules": [{"error_rate": 7}]})
    assert too_high.status_code == 400
    assert call(app, "POST", "/_fake/seed", json={"seed": 9}).json() == {"seed": 9}
    assert call(app, "POST", "/_fake/faults", json={"clear": True}).json()["rules"] == []
    assert call(app, "GET", "/v2/user", headers=AUTH).status_code == 200


def test_timings_are_read_and_set_by_name() -> None:
    """POST /_fake/timings sets a backend timing; an unknown name is a 400 naming the allowed."""
    app, _, backend = vercel_app(ManualClock())
    assert call(app, "POST", "/_fake/timings", json={"alias_propagation": 7.5}).json() == \
        {"alias_propagation": 7.5}
    assert backend.alias_propagation == 7.5
    bad = call(app, "POST", "/_fake/timings", json={"warp": 1})
    assert bad.status_code == 400 and "alias_propagation" in bad.json()["error"]["message"]
