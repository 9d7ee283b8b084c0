"""``drill serve`` beyond loopback: every credential it hands out, the Slack webhook URL
and the PagerDuty routing key included, derives from a per-serve random secret, works
against its fake, and stays out of ``/_fake/state``; on loopback nothing changes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fakes.common.clock import WallClock
from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY
from sim.scenario.loader import load_default
from sim.serve import Service, build_services
from sim.serve_host import fresh_credentials, warning

SEEDED_SLACK_PATH = "/services/T0DRILL01/"  # the team id every install shares


def _services() -> dict[str, Service]:
    built = build_services(load_default(), WallClock(), Path(tempfile.mkdtemp()))
    return {s.name: s for s in built}


def _freshened(secret: bytes) -> dict[str, Service]:
    services = _services()
    for svc in services.values():
        fresh_credentials(svc.name, svc.backend, secret)
    return services


def _env(svc: Service) -> dict[str, str]:
    return svc.env("http://127.0.0.1:1")


@pytest.fixture(scope="module")
def seeded() -> dict[str, dict[str, str]]:
    return {name: _env(svc) for name, svc in _services().items()}


def test_loopback_keeps_the_seeded_webhook_and_routing_key(
        seeded: dict[str, dict[str, str]]) -> None:
    """Rule: without a non-loopback host nothing is rekeyed: the routing key is
    ``DEFAULT_ROUTING_KEY`` and the webhook URL the same on every build (so drills and
    their numbers are as before)."""
    again = {name: _env(svc) for name, svc in _services().items()}
    assert seeded["pagerduty"]["PAGERDUTY_ROUTING_KEY"] == DEFAULT_ROUTING_KEY
    assert again["slack"]["SLACK_WEBHOOK_URL"] == seeded["slack"]["SLACK_WEBHOOK_URL"]


def test_slack_webhook_and_routing_key_derive_from_the_per_serve_secret(
        seeded: dict[str, dict[str, str]]) -> None:
    """Rule (issue 13): beyond loopback the Slack webhook URL and the PagerDuty routing key
    differ from the seeded ones and from one serve to the next (another secret), and are
    the same for the same secret (derived, not drawn)."""
    one, two, one_again = (_freshened(s) for s in (b"a" * 32, b"b" * 32, b"a" * 32))
    for var, vendor in (("SLACK_WEBHOOK_URL", "slack"), ("PAGERDUTY_ROUTING_KEY", "pagerduty")):
        values = [_env(s[vendor])[var] for s in (one, two, one_again)]
        assert values[0] != seeded[vendor][var], var
        assert values[0] != values[1] and values[0] == values[2], var
    assert len(_env(one["pagerduty"])["PAGERDUTY_ROUTING_KEY"]) == 32


def test_the_fresh_webhook_and_key_are_the_ones_the_fakes_accept(
        seeded: dict[str, dict[str, str]]) -> None:
    """Rule: the env file's new Slack URL posts (the seeded one is ``no_service``), the new
    routing key triggers an incident (the seeded one is "Invalid routing key")."""
    services = _freshened(b"s" * 32)
    slack, pd = TestClient(services["slack"].app), TestClient(services["pagerduty"].app)
    path = _env(services["slack"])["SLACK_WEBHOOK_URL"].removeprefix("http://127.0.0.1:1")
    old = seeded["slack"]["SLACK_WEBHOOK_URL"].removeprefix("http://127.0.0.1:1")
    assert slack.post(path, json={"text": "drill"}).text == "ok"
    assert slack.post(old, json={"text": "drill"}).text == "no_service"
    event = {"event_action": "trigger",
             "payload": {"summary": "drill", "source": "drill", "severity": "critical"}}
    key = _env(services["pagerduty"])["PAGERDUTY_ROUTING_KEY"]
    assert pd.post("/v2/enqueue", json={**event, "routing_key": key}).status_code == 202
    refused = pd.post("/v2/enqueue", json={**event, "routing_key": DEFAULT_ROUTING_KEY})
    assert refused.status_code == 400 and "Invalid routing key" in refused.text


def test_state_hides_the_fresh_webhook_and_routing_key() -> None:
    """Rule (issue 13): ``/_fake/state`` shows neither the derived webhook secret (nor the
    URL path holding it) nor the derived routing key, even after they were used."""
    services = _freshened(b"z" * 32)
    slack_url = _env(services["slack"])["SLACK_WEBHOOK_URL"]
    key = _env(services["pagerduty"])["PAGERDUTY_ROUTING_KEY"]
    TestClient(services["slack"].app).post(slack_url.removeprefix("http://127.0.0.1:1"),
                                           json={"text": "x"})
    TestClient(services["pagerduty"].app).post("/v2/enqueue", json={
        "routing_key": key, "event_action": "trigger",
        "payload": {"summary": "s", "source": "s", "severity": "critical"}})
    for name, secret in (("slack", slack_url.rsplit("/", 1)[-1]), ("pagerduty", key)):
        text = TestClient(services[name].app).get("/_fake/state").text
        assert secret not in text and "<redacted>" in text, name


def test_the_warning_names_the_webhook_and_routing_key_as_fresh() -> None:
    """Rule: the warning no longer says the webhook and routing key stay as seeded."""
    text = warning("0.0.0.0")
    assert "stay as seeded" not in text
    assert "Slack webhook URL" in text and "PagerDuty routing key" in text
