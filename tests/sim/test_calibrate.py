"""``drill calibrate`` against live fakes holding a seeded history (the fakes served on
127.0.0.1 as ``drill serve`` serves them): it pages through the vendors' APIs, recovers
the seeded build-time, queue and ack-delay distributions within their 95 % confidence
intervals, writes an overlay a drill runs with, and never writes or prints a token."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from fakes.common.clock import ManualClock
from fakes.common.history import Lognormal
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.history import seed_history as seed_netlify
from fakes.netlify.router import build_app as netlify_app
from fakes.pagerduty.backend import PagerDutyBackend
from fakes.pagerduty.history import seed_history as seed_pagerduty
from fakes.pagerduty.rest_api import REST_API_KEY
from fakes.pagerduty.router import build_app as pagerduty_app
from fakes.vercel.backend import VercelBackend
from fakes.vercel.history import seed_history as seed_vercel
from fakes.vercel.router import build_app as vercel_app
from sim.cli import cli
from sim.scenario.overlay import read_overlay
from tests.servers import serve_in_thread
from tests.sim.drill_cli import drill

BUILD = Lognormal(90.0, 0.3)
QUEUE = Lognormal(5.0, 0.5)
ACK = Lognormal(120.0, 0.5)
VERCEL_TOKEN = "vercel-secret-0123456789"
NETLIFY_TOKEN = "netlify-secret-0123456789"


@dataclass
class Live:
    env: dict[str, str]
    tokens: tuple[str, ...]


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """Vercel and PagerDuty fakes with 400 deployments and 300 incidents of the last 60
    days, served on loopback ports."""
    clock = ManualClock(epoch=datetime.now(UTC).replace(microsecond=0))
    vercel = VercelBackend(clock, token=VERCEL_TOKEN)
    project = vercel.create_project("contacts-web")
    seed_vercel(vercel, project.id, seed=11, count=400, build_time=BUILD, queue_time=QUEUE,
                days=60)
    pd = PagerDutyBackend(clock)
    seed_pagerduty(pd, seed=12, count=300, ack_delay=ACK, days=60)
    with serve_in_thread(vercel_app(vercel)) as v_url, \
            serve_in_thread(pagerduty_app(pd)) as pd_url:
        yield Live({"VERCEL_API_URL": v_url, "VERCEL_TOKEN": VERCEL_TOKEN,
                    "VERCEL_PROJECT_ID": project.id, "PAGERDUTY_API_URL": pd_url,
                    "PAGERDUTY_API_TOKEN": REST_API_KEY}, (VERCEL_TOKEN, REST_API_KEY))


@pytest.fixture(scope="module")
def overlay(live: Live, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("calibrate") / "calibrated.yaml"
    result = CliRunner().invoke(cli, ["calibrate", "--out", str(out)], env=live.env)
    assert result.exit_code == 0, result.output
    return out, result.output


def _values(path: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    pairs, records = read_overlay(path)
    return dict(pairs), {r["field"]: r for r in records}


def _interval(record: dict, name: str) -> tuple[float, float]:
    part = next(p for p in record["interval"].split(", ") if p.startswith(name + " "))
    low, high = part.removeprefix(name + " ").split("–")
    return float(low), float(high)


@pytest.mark.parametrize(("field", "seeded"), [("world.build_time", BUILD),
                                               ("world.queue_time", QUEUE),
                                               ("incident.ack_delay", ACK)])
def test_calibration_recovers_the_seeded_parameters_within_their_intervals(
        overlay, field, seeded):
    """The seeded median and sigma lie in the fit's 95 % intervals, and the fit is
    close: within 10 % of the median and 0.05 of sigma."""
    values, records = _values(overlay[0])
    fitted, record = values[field], records[field]
    assert fitted["dist"] == "lognormal"
    for name in ("median", "sigma"):
        low, high = _interval(record, name)
        assert low <= getattr(seeded, name) <= high, (field, name, low, high)
    assert fitted["median"] == pytest.approx(seeded.median, rel=0.1)
    assert fitted["sigma"] == pytest.approx(seeded.sigma, abs=0.05)


def test_the_overlay_cites_api_sample_size_and_date_range_beside_each_value(overlay):
    text = overlay[0].read_text()
    build = next(line for line in text.splitlines() if line.startswith("world.build_time:"))
    assert "# Vercel GET /v6/deployments" in build and "n=400" in build
    assert "KS D=" in build and ".." in build
    records = _values(overlay[0])[1]
    assert records["incident.ack_delay"]["n"] == 300
    assert records["world.build_time"]["first"] < records["world.build_time"]["last"]


def test_an_input_with_too_few_samples_is_left_alone_and_said_so(overlay):
    """No seeded incident escalated: escalated_ack_delay is not in the overlay."""
    values, _ = _values(overlay[0])
    assert "incident.escalated_ack_delay" not in values
    assert "incident.escalated_ack_delay: 0 sample(s) < --min-samples 20" in overlay[1]


def test_no_token_is_written_or_printed(live, overlay, tmp_path):
    """The tokens appear neither in the overlay, nor in the command's output, nor in
    any file a failing call leaves (a wrong project answers 404)."""
    path, output = overlay
    for token in live.tokens:
        assert token not in path.read_text() and token not in output
    with mock.patch.dict(os.environ, {**live.env, "VERCEL_PROJECT_ID": "prj_missing"}):
        bad = drill("--debug", "calibrate", "--out", str(tmp_path / "x.yaml"))
    assert bad.code == 2 and "vercel: GET /v6/deployments answered 404" in bad.err
    written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    for token in live.tokens:
        assert token not in bad.out + bad.err and all(token not in w for w in written)


def test_a_drill_runs_with_the_overlay_and_its_summary_names_calibrated_inputs(
        overlay, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", "--no-html", "--out", str(out), "--set",
                                      f"@{overlay[0]}", "--set", "population.users=2000"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads((out / "summary.json").read_text())
    calibrated = doc["inputs"]["calibrated"]
    assert set(calibrated) == {"world.build_time", "world.queue_time", "incident.ack_delay"}
    assert calibrated["incident.ack_delay"]["n"] == 300
    assert "responder.decision_delay" in doc["inputs"]["defaults"]
    assert "## Inputs: calibrated, stated, defaults" in (out / "report.md").read_text()


def test_an_uncalibrated_run_has_no_inputs_section(tmp_path):
    """Scenarios without calibration write the summary they wrote before."""
    out = tmp_path / "run"
    CliRunner().invoke(cli, ["run", "--no-html", "--out", str(out),
                             "--set", "population.users=2000"])
    assert "inputs" not in json.loads((out / "summary.json").read_text())


def test_netlify_history_calibrates_build_time_from_deploy_time(tmp_path):
    """Netlify's deploys pages (per_page=100, until a short page) give build_time."""
    clock = ManualClock(epoch=datetime.now(UTC).replace(microsecond=0))
    netlify = NetlifyBackend(clock, token=NETLIFY_TOKEN)
    site = netlify.create_site("contacts-web")
    seed_netlify(netlify, site.id, seed=13, count=250, build_time=BUILD, queue_time=QUEUE,
                 days=60)
    out = tmp_path / "netlify.yaml"
    with serve_in_thread(netlify_app(netlify)) as url:
        result = CliRunner().invoke(cli, ["calibrate", "--out", str(out)],
                                    env={"NETLIFY_API_URL": url,
                                         "NETLIFY_AUTH_TOKEN": NETLIFY_TOKEN,
                                         "NETLIFY_SITE_ID": site.id})
    assert result.exit_code == 0, result.output
    records = _values(out)[1]
    assert records["world.build_time"]["n"] == 250
    low, high = _interval(records["world.build_time"], "median")
    assert low <= BUILD.median <= high
    assert NETLIFY_TOKEN not in out.read_text() + result.output


def test_calibrate_reads_a_json_export_like_the_api(live, tmp_path):
    """A saved ``GET /v6/deployments`` page calibrates as the API does."""
    import httpx

    env = live.env
    page = httpx.get(env["VERCEL_API_URL"] + "/v6/deployments",
                     params={"projectId": env["VERCEL_PROJECT_ID"], "limit": 100},
                     headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"}).json()
    export = tmp_path / "deployments.json"
    export.write_text(json.dumps(page))
    out = tmp_path / "export.yaml"
    result = CliRunner().invoke(cli, ["calibrate", "--from-file", f"vercel={export}",
                                      "--out", str(out)], env={})
    assert result.exit_code == 0, result.output
    assert _values(out)[1]["world.build_time"]["n"] == 100
    assert "Vercel export deployments.json" in out.read_text()


def test_calibrate_with_nothing_to_read_exits_2_in_one_line():
    with mock.patch.dict(os.environ, {"VERCEL_TOKEN": "", "NETLIFY_AUTH_TOKEN": "",
                                      "PAGERDUTY_API_TOKEN": ""}):
        result = drill("calibrate")
    assert result.code == 2 and len(result.err_lines) == 1
    assert "nothing to read" in result.err


def test_the_teams_sentry_alert_rule_is_copied_with_its_source_and_a_drill_runs_on_it(
        tmp_path):
    """The rule named, read from Sentry's alert-rules list among others, becomes
    ``monitoring.alert``, cited as copied; the drill's summary names it calibrated."""
    from fakes.sentry.backend import SentryBackend
    from fakes.sentry.router import build_app as sentry_app
    from sim.scenario.monitoring import AlertRule

    sentry = SentryBackend(ManualClock(), auth_token="sentry-secret-0123456789")
    for n in range(3):  # other rules: the one named is picked
        sentry.create_alert_rule(AlertRule(name=f"other {n}").payload(
            "production", sentry.project_slug))
    mine = AlertRule(name="Team errors", aggregate="count()", query="event.type:error",
                     time_window=600.0, threshold=80.0, threshold_period=2)
    sentry.create_alert_rule(mine.payload("production", sentry.project_slug))
    out = tmp_path / "sentry.yaml"
    with serve_in_thread(sentry_app(sentry)) as url:
        result = CliRunner().invoke(cli, [
            "calibrate", "--sentry-alert", "Team errors", "--out", str(out)], env={
            "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": "sentry-secret-0123456789",
            "SENTRY_ORG": sentry.org, "SENTRY_PROJECT": sentry.project_slug,
            "VERCEL_TOKEN": "", "NETLIFY_AUTH_TOKEN": "", "PAGERDUTY_API_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "sentry-secret-0123456789" not in out.read_text() + result.output
    values = _values(out)[0]
    assert values["monitoring.alert.time_window"] == 600.0
    assert values["monitoring.alert.threshold"] == 80.0
    assert values["monitoring.alert.threshold_period"] == 2
    run = tmp_path / "run"
    CliRunner().invoke(cli, ["run", "--no-html", "--out", str(run), "--set", f"@{out}",
                             "--set", "population.users=2000"])
    doc = json.loads((run / "summary.json").read_text())
    assert doc["inputs"]["calibrated"]["monitoring.alert"]["family"] == "copied"


def test_a_sweep_with_the_overlay_names_its_calibrated_inputs(overlay, tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(cli, ["sweep", "--runs", "2", "--jobs", "1", "--no-html",
                                      "--out", str(out), "--set", f"@{overlay[0]}",
                                      "--set", "population.users=2000"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["inputs"]["calibrated"]["world.build_time"]["n"] == 400
