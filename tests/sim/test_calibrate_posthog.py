"""``drill calibrate`` copies the team's PostHog flag definition, read from a live fake
PostHog's feature-flags list (paged), into ``flag.posthog``: the overlay holds the
fake's rollout percentage and the flag's key and id as its source, a drill runs with
it and names it calibrated, a refusing PostHog is one line and exit 2, and the personal
API key is never written or printed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from fakes.common.clock import ManualClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app
from sim.cli import cli
from sim.scenario.overlay import read_overlay
from tests.servers import serve_in_thread
from tests.sim.drill_cli import drill

KEY = "phx_secret_0123456789abcdef"
NO_OTHERS = {"VERCEL_TOKEN": "", "NETLIFY_AUTH_TOKEN": "", "PAGERDUTY_API_TOKEN": "",
             "SENTRY_AUTH_TOKEN": ""}


@pytest.fixture(scope="module")
def posthog() -> Iterator[tuple[dict[str, str], int]]:
    """A fake PostHog holding 150 other flags (two pages) and ``contacts_redesign`` at
    35 %, served on a loopback port; the env naming it, and the flag's id."""
    backend = PostHogBackend(ManualClock(), personal_api_key=KEY, project_id=7)
    for n in range(150):
        backend.create_feature_flag(f"other-{n}", filters={
            "groups": [{"properties": [], "rollout_percentage": 50}]})
    backend.create_feature_flag("targeted", filters={"groups": [{"rollout_percentage": 100,
        "properties": [{"key": "email", "value": "@logos.test", "operator": "icontains",
                        "type": "person"}]}]})
    flag = backend.create_feature_flag("contacts_redesign", name="Contacts redesign",
                                       filters={"groups": [{"properties": [],
                                                            "rollout_percentage": 35}]})
    with serve_in_thread(build_app(backend)) as url:
        yield {**NO_OTHERS, "POSTHOG_HOST": url, "POSTHOG_PERSONAL_API_KEY": KEY,
               "POSTHOG_PROJECT_ID": "7"}, flag.id


def test_the_flag_definition_is_copied_with_its_key_and_id_and_a_drill_runs_on_it(
        posthog, tmp_path):
    env, flag_id = posthog
    out = tmp_path / "flag.yaml"
    result = CliRunner().invoke(cli, ["calibrate", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    pairs, records = read_overlay(out)
    values = dict(pairs)
    assert values["flag.posthog.rollout_percentage"] == 35.0
    assert values["flag.posthog.key"] == "contacts_redesign"
    assert values["flag.posthog.active"] is True
    text = out.read_text()
    assert f"flag 'contacts_redesign' (id {flag_id})" in text
    assert "/api/projects/7/feature_flags/" in text
    record = next(r for r in records if r["field"] == "flag.posthog")
    assert record["family"] == "copied" and record["n"] == 1
    assert KEY not in text + result.output
    run = tmp_path / "run"
    ran = CliRunner().invoke(cli, ["run", "--no-html", "--out", str(run), "--set", f"@{out}",
                                   "--set", "population.users=2000"])
    assert ran.exit_code in (0, 1), ran.output
    doc = json.loads((run / "summary.json").read_text())
    calibrated = doc["inputs"]["calibrated"]["flag.posthog"]
    assert calibrated["family"] == "copied" and calibrated["n"] == 1
    assert f"id {flag_id}" in calibrated["source"]
    assert {"first", "last"} <= set(calibrated)
    assert KEY not in ran.output + (run / "summary.json").read_text()


@pytest.mark.parametrize(("change", "status"), [
    ({"POSTHOG_PERSONAL_API_KEY": "phx_wrong_0123456789"}, "401"),
    ({"POSTHOG_PROJECT_ID": "99"}, "404")])
def test_a_refusing_posthog_is_one_line_exit_2_and_nothing_written(
        posthog, tmp_path, change, status, monkeypatch):
    for name, value in {**posthog[0], **change}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "x.yaml"
    result = drill("--debug", "calibrate", "--out", str(out))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert f"posthog: GET /api/projects/{change.get('POSTHOG_PROJECT_ID', '7')}" \
           f"/feature_flags/ answered {status}" in result.err
    assert not out.exists()
    assert KEY not in result.out + result.err
    assert "phx_wrong_0123456789" not in result.out + result.err


def test_a_missing_flag_names_the_flags_there(posthog, monkeypatch):
    for name, value in posthog[0].items():
        monkeypatch.setenv(name, value)
    result = drill("calibrate", "--posthog-flag", "nope")
    assert result.code == 2 and "no flag 'nope'" in result.err




def test_a_flag_targeting_properties_is_refused_in_one_line(posthog, monkeypatch):
    """The scenario holds one rollout percentage; a flag with property conditions has
    none, so nothing is guessed."""
    for name, value in posthog[0].items():
        monkeypatch.setenv(name, value)
    result = drill("calibrate", "--posthog-flag", "targeted")
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "targets properties" in result.err
