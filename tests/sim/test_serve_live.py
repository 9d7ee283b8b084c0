"""``drill serve`` at ``--speed 60`` as the real clients see it: the real sentry-sdk's
sessions land in the alert windows they were sent in (the fake maps the SDK's wall-time
stamps onto its scaled clock), so a crash-rate alert fires within the rule's bound."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from sentry_sdk.utils import event_from_exception

from tests.sim.test_serve import read_env

SPEED = 60
ENVIRONMENT = "production"


class Serve:
    """A running ``drill serve --speed 60`` and its env file's variables."""

    def __init__(self, proc: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.proc, self.env = proc, env
        self.token = {"X-Drill-Token": env["DRILL_FAKE_TOKEN"]}

    def state(self, url_var: str, **kwargs: Any) -> Any:
        """A fake's ``/_fake/state`` (``url_var``: the env variable of its base URL)."""
        return httpx.get(self.env[url_var] + "/_fake/state", headers=self.token, timeout=10,
                         **kwargs).json()

    def sentry_api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.env['SENTRY_URL']}/api/0/organizations/{self.env['SENTRY_ORG']}/{path}"
        return httpx.request(method, url, timeout=10, **kwargs,
                             headers={"Authorization": f"Bearer {self.env['SENTRY_AUTH_TOKEN']}"})

    def sentry_now(self) -> float:
        return float(self.state("SENTRY_URL")["now"])


def start_serve(folder: Path) -> Serve:
    env_file = folder / "drill.env"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "--env-file",
                             str(env_file), "--speed", str(SPEED)], cwd=folder, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"drill serve did not start: {proc.communicate()}")
        time.sleep(0.05)
    return Serve(proc, read_env(env_file))


def stop_serve(serve: Serve) -> None:
    if serve.proc.poll() is None:
        serve.proc.kill()
        serve.proc.communicate()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    serve = start_serve(tmp_path_factory.mktemp("serve"))
    try:
        yield serve
    finally:
        stop_serve(serve)


def crash() -> None:
    {}["missing"]


def send_sessions(serve: Serve, release: str, mode: str, crashed: int, total: int) -> None:
    """``total`` sessions of ``release`` through the real sentry-sdk in ``mode``
    (``application``: one ``session`` item each, stamped to the microsecond; ``request``:
    aggregates, which the SDK floors to the wall minute), the first ``crashed`` of them
    ending in an unhandled exception (the SDK marks such a session crashed)."""
    client = sentry_sdk.Client(dsn=serve.env["SENTRY_DSN"], release=release,
                               environment=ENVIRONMENT, default_integrations=False)
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        for i in range(total):
            scope.start_session(session_mode=mode)
            if i < crashed:
                try:
                    crash()
                except KeyError as exc:
                    event, hint = event_from_exception(
                        exc, client.options, mechanism={"type": "drill", "handled": False})
                    scope.capture_event(event, hint=hint)
            scope.end_session()
        client.flush(timeout=5)
    client.close(timeout=5)


def crash_rate_rule(release: str) -> dict[str, Any]:
    return {"name": f"Crash free sessions {release}",
            "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
            "dataset": "metrics", "query": f"release:{release}", "timeWindow": 30,
            "thresholdType": 1, "thresholdPeriod": 1, "environment": ENVIRONMENT,
            "projects": ["contacts-web"],
            "triggers": [{"label": "critical", "alertThreshold": 90, "actions": []}]}


def first_critical(serve: Serve, name: str, deadline_wall_s: float) -> list[Any] | None:
    """The evaluation ``[t, value, status, end]`` at which rule ``name`` first went
    critical, polling the fake's state for up to ``deadline_wall_s`` wall seconds."""
    until = time.monotonic() + deadline_wall_s
    while time.monotonic() < until:
        rules = {r["name"]: r for r in serve.state("SENTRY_URL")["alert_rules"]}
        hits = [e for e in rules[name]["evaluations"] if e[2] == "critical"]
        if hits:
            return list(hits[0])
        time.sleep(0.1)
    return None


# The rule's bound from data sent to its firing, in virtual seconds: up to one resolution
# (2 min for a 30-min window) until an update's timestamp closes a window holding the
# data, Snuba's 60 s release-health delay, up to one evaluation interval (60 s) until the
# host's tick (fakes.sentry.subscriptions). SLACK: the wall jitter of polling and of the
# host's asyncio tick, 0.5 wall s at ×60.
RULE_BOUND_S, SLACK_S = 120 + 60 + 60, 0.5 * SPEED


@pytest.mark.parametrize("mode", ["application", "request"])
def test_real_sentry_sdk_crash_rate_alert_fires_within_its_bound_at_speed_60(
        served: Serve, mode: str) -> None:
    """Rule (issue 11, item 5): with ``--speed 60`` the real sentry-sdk's sessions fall in
    the window they were sent in, so a 30-minute crash-rate alert fires within its bound.
    Sent after more than a window of virtual time has passed (31 wall s), so sessions
    stamped by the wall unmapped (virtual ≈ wall seconds since start) would fall before
    every window and the rule would see no data."""
    release = f"contacts@live-{mode}"
    response = served.sentry_api("POST", "alert-rules/", json=crash_rate_rule(release))
    assert response.status_code == 201, response.text
    while served.sentry_now() < 31 * 60:
        time.sleep(0.5)
    sent_at = served.sentry_now()
    send_sessions(served, release, mode, crashed=2, total=4)
    fired = first_critical(served, f"Crash free sessions {release}",
                           (RULE_BOUND_S + SLACK_S) / SPEED + 5)
    assert fired is not None, "the crash-rate alert never fired"
    t, value, _, _ = fired
    assert value == 50.0
    assert t - sent_at <= RULE_BOUND_S + SLACK_S, (t, sent_at)
