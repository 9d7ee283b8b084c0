"""A game day end to end with a scripted person: the harness measures what the fakes saw.

The person is a script: it waits for the PagerDuty page, acknowledges it (``drill gameday
ack``, or the PagerDuty Events API) and rolls back with a real tool — a PostHog API call
setting the flag to 0 %, or the vercel CLI from npm (``vercel rollback``). The rule each
test checks: the measured acknowledgement, decision and recovery equal what the fakes
recorded (PagerDuty's ``acknowledged_at``, Vercel's ``lastAliasRequest``), and what the
script itself saw on the game day's clock, within a tick; summary.json carries the
person's times and the call that rolled back. The drill runs hundreds of times faster
than the wall, with its fault moved to 20 minutes in (at the scenario's 15:00 peak).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sim.gameday.host import GamedayHost
from sim.gameday.runner import GamedayOptions, run_gameday
from sim.scenario.loader import load_default
from tests.npm_tools import ensure_npm_package, why_not

FAST = ("start=2026-01-25T14:40:00Z", "faults.0.at=20m", "horizon=1h30m",
        "incident.monitoring_period=10m")
TICK = 10.0


def _state(env: dict[str, str]) -> dict[str, Any]:
    return httpx.get(env["DRILL_GAMEDAY_URL"] + "/api/state", timeout=10).json()


def _wait_for_page(env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    """Poll the view until PagerDuty has a triggered incident (the person is paged)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(env)
        if any(i["status"] == "triggered" for i in state["incidents"]):
            return state
        time.sleep(0.03)
    raise AssertionError("nobody was paged")


def _ack_page(env: dict[str, str], state: dict[str, Any]) -> None:
    """Acknowledge the triggered page through PagerDuty's Events API, as a script would."""
    key = next(i["dedup_key"] for i in state["incidents"] if i["status"] == "triggered")
    httpx.post(env["PAGERDUTY_EVENTS_URL"] + "/v2/enqueue", json={
        "routing_key": env["PAGERDUTY_ROUTING_KEY"], "event_action": "acknowledge",
        "dedup_key": key}, headers={"X-Drill-Source": "scripted person"})


def _disable_flag(env: dict[str, str]) -> None:
    """The runbook's Option A through PostHog's API: the flag's rollout to 0 %."""
    base, headers = env["POSTHOG_HOST"], {
        "Authorization": f"Bearer {env['POSTHOG_PERSONAL_API_KEY']}",
        "X-Drill-Source": "scripted person"}
    flags = httpx.get(f"{base}/api/projects/@current/feature_flags/", headers=headers).json()
    flag = next(f for f in flags["results"] if f["key"] == "contacts_redesign")
    r = httpx.patch(f"{base}/api/projects/@current/feature_flags/{flag['id']}/",
                    headers=headers, json={"filters": {"groups": [
                        {"properties": [], "rollout_percentage": 0}]}})
    assert r.status_code == 200, r.text


def _env_file(path: Path, timeout: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, "the env file was never written"
        time.sleep(0.05)
    pairs = (line.removeprefix("export ").split("=", 1) for line in path.read_text().split("\n")
             if line)
    return {k: v.strip("'") for k, v in pairs}


def test_cli_gameday_measures_the_persons_ack_and_posthog_rollback(tmp_path: Path) -> None:
    """`drill gameday` at ×300; the script acks with `drill gameday ack` and sets the flag
    to 0 % through PostHog's API: the summary's acknowledgement and decision fall between
    the game-day times the script read before and after its calls, recovery within a
    tick of the decision, and the rolling-back call is the PATCH (an SDK's /flags call
    before it is no decision)."""
    env_file, out = tmp_path / "gameday.env", tmp_path / "out"
    sets = [a for s in FAST for a in ("--set", s)]
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "gameday", "--speed", "300",
                             "--env-file", str(env_file), "--out", str(out), *sets],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = _env_file(env_file)
        before_ack = _wait_for_page(env)["now_s"]
        acked = subprocess.run([sys.executable, "-m", "sim.cli", "gameday", "ack"],
                               env=os.environ | env, capture_output=True, text=True,
                               timeout=60)
        assert acked.returncode == 0, acked.stderr
        # what an SDK sends after the alert (a flag evaluation) is no one's decision
        sdk = httpx.post(env["POSTHOG_HOST"] + "/flags/?v=2", json={
            "token": env["POSTHOG_PROJECT_API_KEY"], "distinct_id": "usr_000000000001"})
        assert sdk.status_code == 200, sdk.text
        before_patch = _state(env)["now_s"]
        _disable_flag(env)
        after_patch = _state(env)["now_s"]
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode in (0, 1), stderr
    doc = json.loads((out / "summary.json").read_text())
    g = doc["gameday"]
    marks = g["markers_s"]
    # the view's clock may lag the live clock by up to a tick; a served call never does
    assert before_ack <= marks["acknowledged"] <= before_patch
    assert before_patch <= marks["decision"] <= after_patch
    assert 0 <= marks["recovered"] - marks["decision"] <= TICK
    assert g["acknowledged_by"] == "drill gameday ack"
    assert g["rollback_call"]["service"] == "posthog"
    assert g["rollback_call"]["method"] == "PATCH"
    assert g["rollback_call"]["source"] == "scripted person"
    assert doc["metrics"]["time_to_decision_s"] == g["measured"]["time_to_decision_s"]
    assert doc["timeline"]["decision_s"] == marks["decision"]
    assert "rolled back by scripted person" in stdout


@pytest.fixture(scope="module")
def vercel_cli() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    executable = ensure_npm_package("vercel@64", "vercel", overrides={"sandbox": "4.5.0"})
    if executable is None:
        pytest.skip(f"vercel CLI unavailable: {why_not('vercel@64')}")
    return executable


@pytest.mark.node
def test_vercel_cli_rollback_is_measured_as_the_fakes_saw_it(vercel_cli: Path,
                                                             tmp_path: Path) -> None:
    """The script acks through PagerDuty's Events API and runs the real `vercel rollback`:
    the measured acknowledgement is PagerDuty's ``acknowledged_at``, the decision is the
    CLI's rollback request (Vercel's ``lastAliasRequest.requestedAt``), recovery is the
    first tick after the alias moved, and the summary names the vercel CLI's call."""
    seen: dict[str, Any] = {}

    def person(host: GamedayHost) -> None:
        threading.Thread(target=_vercel_person, args=(host, vercel_cli, tmp_path, seen),
                         daemon=True).start()

    scenario = load_default(FAST)
    doc = run_gameday(scenario, tmp_path / "out", GamedayOptions(speed=200, status_every_s=0),
                      on_ready=person)
    assert seen.get("rollback") == 0, seen
    g, drill = doc["gameday"], seen["host"].drill
    marks = g["markers_s"]
    incident = drill.world.pagerduty.incidents()[0]
    assert marks["acknowledged"] == pytest.approx(incident.acknowledged_at, abs=1e-3)
    project = drill.world.vercel.get_project(drill.world.project_id)
    requested = project.last_alias_request["requestedAt"] / 1000 - scenario_epoch(drill)
    assert abs(marks["decision"] - requested) <= 1e-3
    assert 0 <= marks["recovered"] - marks["decision"] <= TICK + 5  # + alias propagation
    call = g["rollback_call"]
    assert call["source"] == "vercel CLI" and call["service"] == "vercel"
    assert "/rollback/" in call["path"]
    assert doc["metrics"]["time_to_rollback_s"] == g["measured"]["time_to_rollback_s"]


def scenario_epoch(drill: Any) -> float:
    return drill.s.start.timestamp()


def _vercel_person(host: GamedayHost, cli: Path, tmp: Path, seen: dict[str, Any]) -> None:
    """Wait for the page, ack it, find the previous production build, `vercel rollback`."""
    env = host.env
    seen["host"] = host
    _ack_page(env, _wait_for_page(env))
    home = tmp / "home"
    (home / "config").mkdir(parents=True)
    (home / "app" / ".vercel").mkdir(parents=True)
    (home / "app" / ".vercel" / "project.json").write_text(json.dumps(
        {"projectId": env["VERCEL_PROJECT_ID"], "orgId": env["VERCEL_ORG_ID"]}))
    listed = httpx.get(env["VERCEL_API_URL"] + "/v6/deployments", params={
        "projectId": env["VERCEL_PROJECT_ID"], "target": "production"},
        headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"}).json()
    previous = next(d for d in listed["deployments"]
                    if (d.get("meta") or {}).get("version") == "1.9.0")
    done = subprocess.run(
        [str(cli), "--api", env["VERCEL_API_URL"], "--token", env["VERCEL_TOKEN"],
         "--global-config", str(home / "config"), "rollback", previous["url"]],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "CI": "1",
             "VERCEL_TELEMETRY_DISABLED": "1", "NO_UPDATE_NOTIFIER": "1", "FORCE_COLOR": "0"},
        cwd=home / "app", capture_output=True, text=True, timeout=120, check=False)
    seen["rollback"], seen["output"] = done.returncode, done.stdout + done.stderr
