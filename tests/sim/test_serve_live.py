"""``drill serve`` at ``--speed 60`` as the real clients see it: the real sentry-sdk's
sessions land in the alert windows they were sent in (the fake maps the SDK's wall-time
stamps onto its scaled clock), so a crash-rate alert fires within the rule's bound."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def send_errors(serve: Serve, count: int) -> None:
    """``count`` handled errors of the scenario's release through the real sentry-sdk."""
    client = sentry_sdk.Client(dsn=serve.env["SENTRY_DSN"], release="contacts@2.0.0",
                               environment=ENVIRONMENT, default_integrations=False)
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        for _ in range(count):
            try:
                crash()
            except KeyError as exc:
                scope.capture_exception(exc)
        client.flush(timeout=10)
    client.close(timeout=10)


def wait_for(probe: Any, wall_s: float) -> Any:
    """``probe()``'s first truthy answer within ``wall_s`` wall seconds, else None."""
    until = time.monotonic() + wall_s
    while time.monotonic() < until:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    return None


def test_the_sentry_alert_pages_pagerduty_and_posts_to_slack(served: Serve) -> None:
    """Rule (issue 11, item 5; Sentry's PagerDuty and Slack integrations, cited in
    ``fakes.sentry.integrations``): when the scenario's alert rule fires under ``drill
    serve``, Sentry sends a PagerDuty Events v2 trigger for the app's service, which opens
    an incident that pages the Incident Lead, and posts "Critical: <rule>" to #incidents
    through Slack's ``chat.postMessage`` as its bot."""
    [rule] = [r for r in served.sentry_api("GET", "alert-rules/").json()
              if r["dataset"] == "events"]
    actions = {a["type"] for t in rule["triggers"] for a in t["actions"]}
    assert {"pagerduty", "slack"} <= actions
    send_errors(served, 60)  # the rule: count() > 50 in 5 min
    pd_state = {"verify": ssl.create_default_context(cafile=served.env["PAGERDUTY_CA_CERT"])}
    incidents = wait_for(lambda: served.state("PAGERDUTY_EVENTS_URL", **pd_state)["incidents"],
                         15)
    assert incidents, "no PagerDuty incident"
    [incident] = incidents
    assert (incident["summary"], incident["severity"], incident["service"]) == \
        (rule["name"], "critical", "contacts-web")
    assert incident["dedup_key"].startswith("incident_1_")
    notified = served.state("PAGERDUTY_EVENTS_URL", **pd_state)["notifications"]
    assert [n["reason"] for n in notified] == ["triggered"]
    slack_base = served.env["SLACK_WEBHOOK_URL"].split("/services/")[0]
    messages = wait_for(lambda: [m for m in httpx.get(
        slack_base + "/_fake/messages", params={"channel": "#incidents"},
        headers=served.token).json() if m["webhook"] == "B0DRILLBOT"], 15)
    assert messages, "no Slack message"
    [message] = messages
    assert f"*Critical: {rule['name']}*" in message["text"]
    assert message["attachments"][0]["color"] == "#FA4747"


@pytest.fixture
def fresh_serve(tmp_path: Path) -> Iterator[Serve]:
    serve = start_serve(tmp_path)
    try:
        yield serve
    finally:
        stop_serve(serve)


def fake_bases(env: dict[str, str]) -> list[str]:
    """The base URL (scheme, host, port) of every fake the env file points at over HTTP,
    but the Contacts app's: it holds nothing to reset (it serves what the platforms do)."""
    urls = [v for k, v in env.items() if k != "CONTACTS_APP_URL"]
    bases = {f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls)
             if u.scheme in ("http", "https") and u.netloc}
    return sorted(bases)


def _world(serve: Serve) -> dict[str, Any]:
    """What a person sees of the seeded world: the app's health, Vercel's READY production
    deployments, the PostHog flag, Sentry's alert rules, Slack's webhook."""
    env = serve.env
    health = httpx.get(env["CONTACTS_APP_URL"] + "/health", timeout=10)
    deployments = httpx.get(env["VERCEL_API_URL"] + "/v6/deployments", timeout=10,
                            params={"projectId": env["VERCEL_PROJECT_ID"],
                                    "target": "production"},
                            headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"})
    flags = httpx.post(env["POSTHOG_HOST"] + "/flags/?v=4", timeout=10,
                       json={"api_key": env["POSTHOG_PROJECT_API_KEY"], "distinct_id": "u1"})
    rules = serve.sentry_api("GET", "alert-rules/")
    slack = httpx.post(env["SLACK_WEBHOOK_URL"], json={"text": "drill"}, timeout=10)
    return {"health": health.status_code,
            "ready": sorted(d["uid"] for d in deployments.json().get("deployments", [])
                            if d["readyState"] == "READY"),
            "flag": "contacts_redesign" in flags.json().get("flags", {}),
            "rules": sorted(r["name"] for r in rules.json()) if rules.status_code == 200
            else rules.status_code,
            "slack": slack.text}


def test_reset_restores_the_seeded_world_and_clear_empties_it(fresh_serve: Serve) -> None:
    """Rule (issue 11, item 5): under ``drill serve``, ``POST /_fake/reset`` on every fake
    puts the runbook's world back as seeded, undoing what people did (a rollback, an alert
    rule deleted, a Slack message) — the Contacts app's ``/health`` answers again;
    ``POST /_fake/clear`` empties a fake (Vercel's project gone: ``/health`` is 404)."""
    serve, env = fresh_serve, fresh_serve.env
    seeded = _world(serve)
    assert seeded["health"] == 200 and len(seeded["ready"]) >= 2 and seeded["flag"]
    assert seeded["rules"] and seeded["slack"] == "ok"
    [rule] = serve.sentry_api("GET", "alert-rules/").json()
    assert serve.sentry_api("DELETE", f"alert-rules/{rule['id']}/").status_code in (202, 204)
    assert httpx.post(env["VERCEL_API_URL"] + "/_fake/clear", headers=serve.token,
                      timeout=10).status_code == 200
    cleared = _world(serve)
    assert cleared["health"] == 404 and cleared["ready"] == [] and cleared["rules"] == []
    for base in fake_bases(env):
        verify = ssl.create_default_context(cafile=env["PAGERDUTY_CA_CERT"]) \
            if base.startswith("https") else True
        assert httpx.post(base + "/_fake/reset", headers=serve.token, verify=verify,
                          timeout=10).status_code == 200, base
    slack_base = env["SLACK_WEBHOOK_URL"].split("/services/")[0]
    assert httpx.post(slack_base + "/_fake/reset", headers=serve.token).status_code == 200
    messages = httpx.get(slack_base + "/_fake/state", headers=serve.token).json()["messages"]
    assert messages == []  # the seeded channel had none: the drills' messages are undone
    assert _world(serve) == seeded
