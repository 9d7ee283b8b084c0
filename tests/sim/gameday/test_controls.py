"""The facilitator's controls and the live clock they act on.

Pause freezes the game day's clock (the drill, and every fake reading it); resume lets it
run on from where it stopped; "inject fault now" starts the scenario's error spike at the
next tick instead of its scheduled time; End stops the run and the results are written,
marked incomplete when users had not recovered. The controls are the facilitator's: the
same door as the fakes' ``/_fake/`` (an allowed Host, same origin, the game day's token).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sim.gameday.clock import LiveClock
from sim.gameday.host import GamedayHost
from sim.gameday.runner import GamedayOptions, live_scenario, run_gameday
from sim.scenario.loader import load_default
from tests.sim.gameday.test_gameday import _env_file


def test_a_paused_clock_stands_still_and_resumes_where_it_stopped() -> None:
    clock = LiveClock(1000, datetime(2026, 1, 1, tzinfo=UTC))
    time.sleep(0.02)
    clock.pause()
    frozen = clock.now()
    time.sleep(0.05)
    assert clock.now() == frozen and frozen > 0
    clock.resume()
    time.sleep(0.02)
    assert frozen < clock.now() < frozen + 1000 * 0.5


def test_live_calendar_keeps_the_scenarios_time_of_day_and_is_never_in_the_past() -> None:
    """The game day starts at the scenario's hour (the daily traffic cycle) on the first
    date not before now: the real tools' own clocks never see the fakes' times as old."""
    scenario = load_default()
    now = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)
    start = live_scenario(scenario, now).start
    assert (start.hour, start.minute) == (scenario.start.hour, scenario.start.minute)
    assert now <= start < now.replace(day=3, hour=21)


def test_pause_inject_and_end_from_the_view(tmp_path: Path) -> None:
    """Through the view's API: inject the fault now (it starts at the next tick, long
    before its scheduled 2 h), pause (the game day's clock stands still), resume, end.
    Ended before anyone rolled back, the game day is marked incomplete and no incident
    resolution is reported."""
    seen: dict[str, Any] = {}

    def facilitator(host: GamedayHost) -> None:
        def act() -> None:
            api, door = host.urls["view"] + "/api/", {"X-Drill-Token": host.token}
            seen["inject"] = httpx.post(api + "inject", headers=door).json()
            time.sleep(0.3)
            httpx.post(api + "pause", headers=door)
            t1 = httpx.get(api + "state").json()["now_s"]
            time.sleep(0.3)
            seen["paused"] = (t1, httpx.get(api + "state").json()["now_s"])
            httpx.post(api + "resume", headers=door)
            time.sleep(0.2)
            seen["refused"] = httpx.post(api + "explode", headers=door).status_code
            seen["page_has_token"] = host.token in httpx.get(host.urls["view"] + "/").text
            httpx.post(api + "end", headers=door)
        threading.Thread(target=act, daemon=True).start()

    doc = run_gameday(load_default(["horizon=6h"]), tmp_path / "out",
                      GamedayOptions(speed=100, status_every_s=0), on_ready=facilitator)
    assert seen["inject"] == {"injected": True}
    assert seen["paused"][0] == seen["paused"][1]
    assert seen["refused"] == 404
    assert seen["page_has_token"]  # the page's buttons carry it
    g = doc["gameday"]
    marks = g["markers_s"]
    assert marks["fault"] is not None and marks["fault"] < 120
    assert marks["resolved"] is None  # ended, not resolved
    assert (g["ended"], g["complete"]) == ("facilitator", False)
    assert (tmp_path / "out" / "journal.jsonl").read_text().count("ended by the facilitator")


def test_the_controls_refuse_a_foreign_page_and_a_missing_token(tmp_path: Path) -> None:
    """A web page on another site (its Origin), a rebinding name (its Host) or a request
    without the token cannot pause or end the game day: 403, and the game day runs on."""
    seen: dict[str, Any] = {}

    def attacker(host: GamedayHost) -> None:
        def act() -> None:
            end, door = host.urls["view"] + "/api/end", {"X-Drill-Token": host.token}
            seen["codes"] = [
                httpx.post(end).status_code,
                httpx.post(end, headers={**door, "Origin": "https://evil.example"}).status_code,
                httpx.post(end, headers={**door, "Host": "evil.example"}).status_code,
                httpx.post(host.urls["view"] + "/api/pause", content="x",
                           headers={"Content-Type": "text/plain"}).status_code]
            seen["state"] = httpx.get(host.urls["view"] + "/api/state").json()["state"]
            httpx.post(end, headers=door)
        threading.Thread(target=act, daemon=True).start()

    doc = run_gameday(load_default(["horizon=6h"]), tmp_path / "out",
                      GamedayOptions(speed=100, status_every_s=0), on_ready=attacker)
    assert seen["codes"] == [403, 403, 403, 403]
    assert seen["state"] == "running"
    assert doc["gameday"]["ended"] == "facilitator"


def test_drill_gameday_ended_early_exits_130_with_results_marked_incomplete(
        tmp_path: Path) -> None:
    """Ending before users recovered is an interruption (130, as Ctrl-C), not a missed
    target (1): the results are written and say ``"complete": false``."""
    env_file, out = tmp_path / "gameday.env", tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "gameday", "--speed", "100",
                             "--env-file", str(env_file), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = _env_file(env_file)
        r = httpx.post(env["DRILL_GAMEDAY_URL"] + "/api/end",
                       headers={"X-Drill-Token": env["DRILL_FAKE_TOKEN"]})
        assert r.status_code == 200, r.text
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "incomplete" in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gameday"]["complete"] is False


def test_an_assisted_game_day_nobody_joins_is_the_simulated_drill(tmp_path: Path) -> None:
    """With ``--assist`` and no person, the modelled responder plays every role on the live
    clock: the game day measures exactly the simulated run's times (the same drill, the
    same events, only paced by the wall)."""
    # FAST as in test_gameday: the fault 20 min in, at the scenario's 15:00 peak
    doc = run_gameday(load_default(FAST_ASSIST), tmp_path / "out",
                      GamedayOptions(speed=600, status_every_s=0, assist=True))
    g = doc["gameday"]
    for name in ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s"):
        assert g["measured"][name] == g["modelled"][name] is not None
    for name in ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s"):
        assert doc["metrics"][name] == g["modelled"]["metrics"][name]
    assert g["calls"] == []  # (affected users differ: the game day ends once resolved)


FAST_ASSIST = ("start=2026-01-25T14:40:00Z", "faults.0.at=20m", "horizon=1h30m",
               "incident.monitoring_period=10m")


def test_a_real_clients_wall_stamp_maps_to_the_game_days_clock() -> None:
    """What sentry-sdk stamps by the wall lands at the live clock's virtual time (the fake
    Sentry's ``virtual_time``), not ``speed`` times behind it; inside a pause, at the
    pause."""
    import simpy

    from fakes.sentry.envelope import virtual_time
    from sim.gameday.clock import GamedayClock

    live = LiveClock(600, datetime(2026, 1, 1, tzinfo=UTC))
    clock = GamedayClock(simpy.Environment(), live)
    time.sleep(0.05)
    assert abs(virtual_time(clock, time.time(), 0.0) - live.now()) < 600 * 0.02
    live.pause()
    time.sleep(0.05)
    assert virtual_time(clock, time.time(), 0.0) == live.now()
