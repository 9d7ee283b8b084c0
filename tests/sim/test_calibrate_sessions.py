"""``drill calibrate --sentry-sessions`` measures the baseline error rate from a live
fake Sentry's sessions API: seeded sessions with a known unhealthy share give
``traffic.error_rate_old`` whose interval holds the seeded rate, cited with n and the
date range; a drill runs with it; a refusing Sentry is one line and exit 2; the token
is never written or printed."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from fakes.common.clock import ManualClock
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app
from sim.calibrate.sessions import per_view
from sim.cli import cli
from sim.errors import BadInput
from sim.scenario.monitoring import AlertRule
from sim.scenario.overlay import read_overlay
from tests.servers import serve_in_thread
from tests.sim.drill_cli import drill

TOKEN = "sentry-secret-sessions-0123456789"
SHARE = 0.03  # of sessions not ending healthy
NO_OTHERS = {"VERCEL_TOKEN": "", "NETLIFY_AUTH_TOKEN": "", "PAGERDUTY_API_TOKEN": "",
             "POSTHOG_PERSONAL_API_KEY": ""}


@pytest.fixture(scope="module")
def sentry() -> Iterator[tuple[dict[str, str], int]]:
    """A fake Sentry with an alert rule and 20 days of hourly session aggregates, each
    session unhealthy with probability SHARE; the env naming it, and the session count."""
    clock = ManualClock(epoch=datetime.now(UTC).replace(microsecond=0))
    backend = SentryBackend(clock, auth_token=TOKEN)
    backend.create_alert_rule(AlertRule(name="Contacts errors").payload(
        "production", backend.project_slug))
    clock.advance(20 * 86400)
    rng, total = random.Random(5), 0
    for hour in range(20 * 24):
        n = 200
        bad = sum(rng.random() < SHARE for _ in range(n))
        crashed = bad // 4
        backend.record_session_aggregates("web@1.0.0", "production", hour * 3600.0,
                                          exited=n - bad, errored=bad - crashed,
                                          crashed=crashed)
        total += n
    with serve_in_thread(build_app(backend)) as url:
        yield {**NO_OTHERS, "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": TOKEN,
               "SENTRY_ORG": backend.org}, total


def _interval(text: str) -> tuple[float, float]:
    low, high = text.removeprefix("rate ").split("–")
    return float(low), float(high)


def test_the_baseline_error_rate_is_measured_within_its_interval_and_a_drill_runs(
        sentry, tmp_path, monkeypatch):
    env, total = sentry
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "rate.yaml"
    result = CliRunner().invoke(cli, ["calibrate", "--sentry-sessions", "--out", str(out)],
                                env=env)
    assert result.exit_code == 0, result.output
    pairs, records = read_overlay(out)
    rate = dict(pairs)["traffic.error_rate_old"]
    record = next(r for r in records if r["field"] == "traffic.error_rate_old")
    assert record["n"] == total and record["family"] == "binomial"
    assert record["first"] < record["last"]
    low, high = _interval(record["interval"])
    seeded = per_view(SHARE, 3.0)
    assert low <= seeded <= high and low <= rate <= high
    assert rate == pytest.approx(seeded, rel=0.1)
    text = out.read_text()
    assert f"n={total}" in text and "/sessions/" in text
    assert TOKEN not in text + result.output
    run = tmp_path / "run"
    ran = CliRunner().invoke(cli, ["run", "--no-html", "--out", str(run), "--set", f"@{out}",
                                   "--set", "population.users=2000"])
    assert ran.exit_code in (0, 1), ran.output
    summary = (run / "summary.json").read_text()
    calibrated = json.loads(summary)["inputs"]["calibrated"]["traffic.error_rate_old"]
    assert calibrated["n"] == total and calibrated["first"] and calibrated["last"]
    assert "sessions" in calibrated["source"]
    assert TOKEN not in ran.output + summary
    assert "monitoring.alert" in json.loads(summary)["inputs"]["calibrated"]


@pytest.mark.parametrize(("change", "status"), [
    ({"SENTRY_AUTH_TOKEN": "sentry-wrong-0123456789"}, "401"),
    ({"SENTRY_ORG": "someone-else"}, "40")])
def test_a_refusing_sentry_is_one_line_exit_2_and_nothing_written(
        sentry, tmp_path, change, status, monkeypatch):
    for name, value in {**sentry[0], **change}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "x.yaml"
    result = drill("--debug", "calibrate", "--sentry-sessions", "--out", str(out))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "sentry: GET /api/0/organizations/" in result.err and f"answered {status}" \
        in result.err
    assert not out.exists()
    assert TOKEN not in result.out + result.err
    assert "sentry-wrong-0123456789" not in result.out + result.err


def test_sessions_are_read_for_the_named_project_by_its_numeric_id(sentry, tmp_path,
                                                                   monkeypatch):
    """With ``--sentry-project`` the sessions query carries ``project=<id>`` (Sentry's
    sessions API filters by numeric id only), the id read from "Retrieve a Project";
    the overlay cites the project. An unknown project is one line naming it, exit 2 (its
    alert rule is looked for first; the sessions' own refusal is the 404 of "Retrieve a
    Project")."""
    import httpx

    from sim.calibrate.sessions import project_id, session_counts
    from sim.calibrate.sources import Api

    env, total = sentry
    seen: list[httpx.URL] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url)]}) as client:
        api = Api("sentry", env["SENTRY_URL"], f"Bearer {TOKEN}", client)
        project = project_id(api, env["SENTRY_ORG"], "contacts-web")
        counts, _, _ = session_counts(api, env["SENTRY_ORG"], 30, None, project)
    assert project == "42" and sum(counts.values()) == total
    assert seen[-1].params.get_list("project") == ["42"]
    for name, value in {**env, "SENTRY_PROJECT": "contacts-web"}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "rate.yaml"
    result = drill("calibrate", "--sentry-sessions", "--out", str(out))
    assert result.code == 0, result.err
    record = next(r for r in read_overlay(out)[1] if r["field"] == "traffic.error_rate_old")
    assert "project contacts-web (id 42)" in record["source"] and record["n"] == total
    monkeypatch.setenv("SENTRY_PROJECT", "no-such-project")
    refused = drill("calibrate", "--sentry-sessions", "--out", str(tmp_path / "x.yaml"))
    assert refused.code == 2 and len(refused.err_lines) == 1, refused.err
    assert "no alert rule watches project 'no-such-project'" in refused.err
    with httpx.Client() as client, pytest.raises(BadInput, match=r"projects/.*answered 404"):
        project_id(Api("sentry", env["SENTRY_URL"], f"Bearer {TOKEN}", client),
                   env["SENTRY_ORG"], "no-such-project")
