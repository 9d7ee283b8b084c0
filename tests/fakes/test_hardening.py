"""Issue 13: the control plane is not an open door, secrets stay out of ``/_fake/state``,
bad fault rules are refused in the vendor's shape, and no body can take the memory."""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from fastapi.testclient import TestClient

from fakes.common.clock import WallClock
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector
from fakes.common.guard import ControlGuard
from fakes.common.limits import MAX_BODY
from fakes.common.redact import REDACTED
from sim.scenario.loader import load_default
from sim.serve import Service, build_services

TOKEN = "t0ken-for-tests"


@pytest.fixture(scope="module")
def services() -> list[Service]:
    return build_services(load_default(), WallClock(), Path(tempfile.mkdtemp()))


def _service(services: list[Service], name: str) -> Service:
    return next(s for s in services if s.name == name)


@pytest.fixture(scope="module")
def guarded() -> Iterator[TestClient]:
    """A Vercel fake as ``drill serve`` fronts it: fault plane plus the guard."""
    svc = _service(build_services(load_default(), WallClock(), Path(tempfile.mkdtemp())),
                   "vercel")
    install(svc.app, FaultInjector(WallClock()), real_latency=True)
    svc.app.add_middleware(ControlGuard, token=TOKEN, hosts=("127.0.0.1",),
                           error_class=svc.app.state.fake_error_class)
    with TestClient(svc.app, base_url="http://127.0.0.1:8000") as client:
        yield client


def test_guard_refuses_a_cross_origin_post_to_the_fault_plane(guarded: TestClient) -> None:
    """A page on another site (text/plain POST, foreign Origin) cannot inject faults,
    even holding the token; the refusal is Vercel's error shape, 403."""
    r = guarded.post("/_fake/faults", content='{"rules": [{"error_rate": 1}]}',
                     headers={"Content-Type": "text/plain", "Origin": "http://evil.example",
                              "X-Drill-Token": TOKEN})
    assert r.status_code == 403 and r.json()["error"]["message"].startswith("control plane")
    assert guarded.get("/_fake/faults", headers={"X-Drill-Token": TOKEN}).json()["rules"] == []


def test_guard_refuses_a_foreign_host_and_a_missing_token(guarded: TestClient) -> None:
    """DNS rebinding (Host: a foreign name) and a request without the token are 403; the
    same request from loopback with the token passes; the vendor API is not guarded."""
    assert guarded.get("/_fake/faults", headers={"Host": "rebind.evil.example",
                                                 "X-Drill-Token": TOKEN}).status_code == 403
    assert guarded.get("/_fake/faults").status_code == 403
    assert guarded.get("/_fake/faults", headers={"X-Drill-Token": "wrong"}).status_code == 403
    ok = guarded.get("/_fake/faults", headers={"X-Drill-Token": TOKEN,
                                               "Origin": "http://127.0.0.1:8000"})
    assert ok.status_code == 200
    assert guarded.get("/v2/user").status_code == 403  # Vercel's own: no bearer token


def test_state_shows_no_secret(services: list[Service]) -> None:
    """/_fake/state of every fake contains none of the credentials its env hands out
    (the Slack webhook secret, the PagerDuty routing key, tokens and keys)."""
    for svc in services:
        text = TestClient(svc.app).get("/_fake/state").text
        env = svc.env("http://127.0.0.1:1")
        secret_vars = [k for k in env if any(w in k for w in ("TOKEN", "KEY", "WEBHOOK"))
                       and not k.endswith("_URL_UNUSED")]
        for key in secret_vars:
            value = env[key].rsplit("/", 1)[-1]  # a webhook URL's secret is its last segment
            assert value not in text, (svc.name, key)
    slack = TestClient(_service(services, "slack").app).get("/_fake/state").json()
    assert slack["webhooks"][0]["secret"] == REDACTED
    pd = TestClient(_service(services, "pagerduty").app).get("/_fake/state").json()
    assert pd["services"][0]["routing_key"] == REDACTED


@pytest.mark.parametrize("rule", [
    {"outage_start": "10", "outage_end": "20"}, {"status": 503.5}, {"status": "503"},
    {"status": True}, {"error_rate": "1"}, {"latency": "1e999"}, {"bogus": 1},
    {"message": 5}, {"operation": None}])
def test_bad_fault_rules_are_a_vendor_400_and_the_fake_keeps_serving(
        guarded: TestClient, rule: dict[str, object]) -> None:
    """A rule with a string time, a fractional or non-integer status, a wrong type or an
    unknown field is a 400 in Vercel's shape; the rules in place stay; the API serves."""
    h = {"X-Drill-Token": TOKEN}
    body = json.dumps({"rules": [rule]}).replace('"1e999"', "1e999")  # JSON's infinity
    r = guarded.post("/_fake/faults", content=body, headers=h)
    assert r.status_code == 400 and "message" in r.json()["error"], r.text
    assert guarded.get("/_fake/faults", headers=h).json()["rules"] == []
    assert guarded.get("/v2/user").status_code == 403  # answered by Vercel, not a 500


def test_posthog_refuses_an_empty_batch_without_a_key(services: list[Service]) -> None:
    """PostHog capture: no batch key and no event is NoTokenError, 401 (rust capture
    utils.rs/api.rs); an empty batch with the project key is accepted."""
    svc = _service(services, "posthog")
    client = TestClient(svc.app)
    r = client.post("/batch/", json={"batch": []})
    assert r.status_code == 401 and r.json()["type"] == "authentication_error"
    assert client.post("/i/v1/analytics/events", json={"batch": []}).status_code == 401
    key = svc.env("http://x")["POSTHOG_PROJECT_API_KEY"]
    assert client.post("/batch/", json={"api_key": key, "batch": []}).status_code == 200
    assert client.post("/batch/", json={"api_key": "phc_wrong", "batch": []}).status_code == 401


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        block = b"\0" * (1024 * 1024)
        for _ in range(size // len(block)):
            gz.write(block)
    return out.getvalue()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_a_gzip_bomb_is_413_and_memory_stays_bounded(services: list[Service]) -> None:
    """A ~400 KiB gzip body expanding to 400 MiB is refused with 413 in PostHog's shape
    (Content-Encoding and posthog-js's ?compression=gzip-js alike), and the process's
    RSS grows by far less than the expansion (the cap is 100 MiB, inflated in steps)."""
    client = TestClient(_service(services, "posthog").app)
    bomb = _bomb(400 * 1024 * 1024)
    assert len(bomb) < 500 * 1024
    before = _rss_kib()
    r = client.post("/batch/", content=bomb, headers={"Content-Encoding": "gzip",
                                                      "Content-Type": "application/json"})
    r2 = client.post("/batch/?compression=gzip-js", content=bomb)
    grown_mib = (_rss_kib() - before) / 1024
    assert r.status_code == 413 and r.json()["type"] == "validation_error", r.text
    assert r2.status_code == 413
    assert grown_mib < 250, grown_mib


def test_a_zstd_bomb_and_an_oversized_body_are_413(services: list[Service]) -> None:
    """zstd (posthog-python's capture_compression) is bounded like gzip; a raw body over
    20 MiB is 413 before the route runs, in the vendor's shape (Sentry's here)."""
    client = TestClient(_service(services, "posthog").app)
    cctx = zstandard.ZstdCompressor()
    bomb = cctx.compress(b"\0" * (150 * 1024 * 1024))
    r = client.post("/batch/", content=bomb, headers={"Content-Encoding": "zstd"})
    assert r.status_code == 413, r.text
    sentry = TestClient(_service(services, "sentry").app)
    big = sentry.post("/api/1/envelope/", content=b"x" * (MAX_BODY + 1))
    assert big.status_code == 413 and "detail" in big.json(), big.text


def test_every_fault_rule_field_is_type_checked() -> None:
    """The HTTP rule parser knows the type of each ``FaultRule`` field, no more, no less
    (a field added to the model without a type here would go unchecked)."""
    from fakes.common.fault_router import _FIELD_TYPES
    from fakes.common.faults import FaultRule

    assert set(_FIELD_TYPES) == set(FaultRule.__dataclass_fields__)
