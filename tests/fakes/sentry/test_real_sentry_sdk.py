"""End to end with the vendor's own client: sentry-sdk posting to the fake over TCP.

sentry-sdk (a test dependency) sends its envelopes, compressed as it chooses, to the fake
served on 127.0.0.1. What it sent is then read back the way the drill's tooling reads it:
through the fake's HTTP API (issues, sessions, alert rules) with the org's bearer token.
The alert webhook is queued by the fake and POSTed by its host (``drill serve`` does it
after each evaluation); here the test plays the host and a tiny ASGI app receives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sentry_sdk
from sentry_sdk.utils import event_from_exception

from fakes.common.clock import WallClock
from fakes.sentry.alerts import verify_signature
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app
from tests.servers import serve_in_thread

ENVIRONMENT = "production"
HOOK_PATH = "/hooks/sentry"


@dataclass
class Served:
    backend: SentryBackend
    base_url: str


class Receiver:
    """An ASGI webhook endpoint: records each request's path, headers and raw body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((scope["path"], headers, body))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def served() -> Iterator[Served]:
    """The fake on 127.0.0.1 in a thread, on the wall clock the SDK's timestamps use."""
    backend = SentryBackend(WallClock())
    with serve_in_thread(build_app(backend)) as base_url:
        yield Served(backend, base_url)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver on 127.0.0.1: (receiver, its URL)."""
    app = Receiver()
    with serve_in_thread(app) as base_url:
        yield app, base_url + HOOK_PATH


def look_up_missing_key() -> None:
    """The bug: one code path, so every release's KeyError is the same issue."""
    {}["missing"]


def send_request_sessions(served: Served, release: str, handled: int, crashed: int,
                          total: int) -> None:
    """``total`` request-mode sessions of ``release`` through sentry-sdk: the first
    ``handled`` capture a handled KeyError, the next ``crashed`` an unhandled one."""
    client = sentry_sdk.Client(dsn=served.backend.dsn(served.base_url), release=release,
                               environment=ENVIRONMENT, default_integrations=False)
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        for i in range(total):
            scope.start_session(session_mode="request")
            try:
                if i < handled + crashed:
                    look_up_missing_key()
            except KeyError as exc:
                if i < handled:
                    scope.capture_exception(exc)
                else:  # what a framework integration reports for an uncaught exception
                    event, hint = event_from_exception(
                        exc, client.options, mechanism={"type": "drill", "handled": False})
                    scope.capture_event(event, hint=hint)
            scope.end_session()
        client.flush(timeout=5)
    client.close(timeout=5)


def api(served: Served, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call to the fake's web API (``/api/0/organizations/{org}/…``) with the token."""
    url = f"{served.base_url}/api/0/organizations/{served.backend.org}/{path}"
    headers = {"Authorization": f"Bearer {served.backend.auth_token}"}
    return httpx.request(method, url, headers=headers, timeout=10, **kwargs)


def deliver_webhooks(served: Served) -> None:
    """The host's part: drain the fake's queued webhooks and POST each as queued."""
    drained = httpx.post(f"{served.base_url}/_fake/drain_webhooks", timeout=10)
    for hook in drained.json():
        httpx.post(hook["url"], content=hook["body"].encode(), headers=hook["headers"],
                   timeout=10)


def test_real_sentry_sdk_events_and_request_sessions_are_ingested(served: Served) -> None:
    """The SDK's own envelopes (compressed as it chooses) land as issues and sessions."""
    send_request_sessions(served, "web@9", handled=1, crashed=0, total=3)
    [sessions] = served.backend.state()["sessions"]
    assert (sessions["release"], sessions["healthy"], sessions["errored"]) == ("web@9", 2, 1)
    [issue] = served.backend.list_issues(query="release:web@9")
    assert (issue["title"], issue["count"]) == ("KeyError: 'missing'", "1")


def test_real_sentry_sdk_data_is_counted_per_release_in_the_http_api(served: Served) -> None:
    """Errors and release-health sessions the SDK sent show per release through the
    fake's HTTP API: the issue's count under ``release:X``, and each release's crash-free
    rate and session count from the sessions API."""
    send_request_sessions(served, "web@1", handled=1, crashed=0, total=4)
    send_request_sessions(served, "web@2", handled=2, crashed=1, total=4)

    for release, count in (("web@1", "1"), ("web@2", "3")):
        response = api(served, "GET", "issues/", params={
            "query": f"is:unresolved release:{release}", "environment": ENVIRONMENT,
            "project": served.backend.project_id, "statsPeriod": "1h"})
        assert response.status_code == 200, response.text
        [issue] = response.json()
        assert (issue["title"], issue["count"], issue["level"]) == \
            ("KeyError: 'missing'", count, "error")

    # 24h, not 1h: the fake's hours count from its start (a wall clock's epoch is "now"),
    # and the SDK truncates a session's start to the minute, so sessions sent in the
    # fake's first minute belong to the hour before its first.
    response = api(served, "GET", "sessions/", params={
        "field": ["crash_free_rate(session)", "sum(session)"], "groupBy": "release",
        "environment": ENVIRONMENT, "project": served.backend.project_id,
        "statsPeriod": "24h", "interval": "1h"})
    assert response.status_code == 200, response.text
    totals = {g["by"]["release"]: g["totals"] for g in response.json()["groups"]}
    assert totals == {
        "web@1": {"crash_free_rate(session)": 1.0, "sum(session)": 4},
        "web@2": {"crash_free_rate(session)": 0.75, "sum(session)": 4}}


def test_real_sentry_sdk_sessions_fire_a_metric_alert_whose_webhook_is_signed(
        served: Served, receiver: tuple[Receiver, str]) -> None:
    """A crash-rate alert created over HTTP (Sentry has none on errored sessions) fires
    for the release the SDK reported crashing (1 of 4 sessions: 75 % crash free), not for
    the healthy one, and its webhook reaches the receiver with a valid
    ``Sentry-Hook-Signature``."""
    hooks, hook_url = receiver
    served.backend.webhook_url = hook_url
    send_request_sessions(served, "web@1", handled=1, crashed=0, total=4)
    send_request_sessions(served, "web@2", handled=2, crashed=1, total=4)
    for release in ("web@1", "web@2"):
        response = api(served, "POST", "alert-rules/", json={
            "name": f"Crash free sessions {release}",
            "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
            "dataset": "metrics", "query": f"release:{release}", "timeWindow": 30,
            "thresholdType": 1, "environment": ENVIRONMENT,
            "projects": [served.backend.project_slug],
            "triggers": [{"label": "critical", "alertThreshold": 90, "actions": []}]})
        assert response.status_code == 201, response.text

    # catch_up: run each rule's next update now rather than wait out Snuba's schedule
    evaluations = httpx.post(f"{served.base_url}/_fake/evaluate", params={"catch_up": "true"},
                             timeout=10).json()
    assert {(e["name"], e["value"], e["status"]) for e in evaluations} == {
        ("Crash free sessions web@1", 100.0, "ok"),
        ("Crash free sessions web@2", 75.0, "critical")}
    deliver_webhooks(served)

    [(path, headers, body)] = hooks.received
    assert path == HOOK_PATH
    assert headers["sentry-hook-resource"] == "metric_alert"
    assert verify_signature(body, headers["sentry-hook-signature"],
                            served.backend.webhook_secret)
    payload = json.loads(body)
    assert payload["action"] == "critical"
    assert payload["data"]["metric_alert"]["alert_rule"]["name"] == "Crash free sessions web@2"
