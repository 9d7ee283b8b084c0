"""Rollback complete = the previous version serving users, healthy.

The paths that stop the app (``docker-compose``: down, pull, up -d, health-gated;
``database-rollback``: stop, back up, roll back, restart the old version) serve nobody the
faulty page while stopped — and nobody anything. That downtime is impact, never
recovery: the rollback ends only when the old version is up, the status page says
"back" only then, and the users who came in between count as affected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sim.drills.run import run_drill
from sim.results.markdown import render_markdown
from sim.results.run import RunResult
from sim.results.writer import summary
from sim.scenario.model import Scenario
from sim.scenario.paths import path_spec

Load = Callable[..., Scenario]
DOWNTIME_SCENARIOS = ("critical-bug-docker-compose", "database-rollback")
SEEDS = (3, 11)


def _run(scenario: Load, name: str, seed: int) -> tuple[RunResult, dict[str, Any]]:
    result = run_drill(scenario(name), seed)
    return result, summary(result)


def _first(result: RunResult, kind: str) -> Any:
    record = result.journal.first(kind)
    assert record is not None, f"no {kind} in the journal"
    return record


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", DOWNTIME_SCENARIOS)
def test_rollback_time_covers_the_downtime_and_the_restart(scenario: Load, name: str,
                                                           seed: int) -> None:
    """time_to_rollback_s ≥ the procedure's downtime + restart (app_down → app_up, up =
    the old version healthy) and ≥ decision → app_up; recovery is at or after app_up,
    on the previous version."""
    result, doc = _run(scenario, name, seed)
    decision, down, up = (_first(result, k) for k in ("decision", "app_down", "app_up"))
    recovered = _first(result, "recovered")
    rollback = doc["metrics"]["time_to_rollback_s"]
    assert up.t > down.t >= decision.t
    assert rollback >= up.t - down.t > 0
    assert rollback >= up.t - decision.t - 1e-3  # summary values are rounded to ms
    assert recovered.t >= up.t
    assert recovered.data["release"] == up.data["version"] == "1.9.0"
    assert up.data["down_s"] == pytest.approx(up.t - down.t)
    assert doc["facts"]["downtime_s"] == pytest.approx(up.t - down.t)


@pytest.mark.parametrize("name", DOWNTIME_SCENARIOS)
def test_the_runbook_estimate_stands_beside_the_rollback_time(scenario: Load, name: str
                                                              ) -> None:
    """summary.json and report.md give the path's runbook estimate beside the modelled
    time to rollback, which now includes the downtime."""
    result, doc = _run(scenario, name, SEEDS[0])
    estimate = path_spec(doc["path"]).estimate
    assert doc["runbook_estimate_s"] == {"low": estimate.low_s, "high": estimate.high_s,
                                         "text": estimate.text}
    report = render_markdown(result, doc)
    assert f"- Runbook: {estimate.text}" in report
    assert "- Modelled time to rollback: " + f"{doc['metrics']['time_to_rollback_s']:.1f} s" \
        in report


@pytest.mark.parametrize("name", DOWNTIME_SCENARIOS)
def test_comms_say_back_only_once_the_old_version_serves(scenario: Load, name: str) -> None:
    """The status page's "back for everyone" (monitoring) and "resolved" updates, and
    Slack's "rollback complete", are posted at or after app_up, never while it is down."""
    result, _ = _run(scenario, name, SEEDS[0])
    up = _first(result, "app_up")
    pages = list(result.journal.of("comms_statuspage"))
    back = [r for r in pages if "is back for everyone" in r.data.get("body", "")]
    resolved = [r for r in pages if r.data.get("status") == "resolved"]
    assert back and resolved
    assert all(r.t >= up.t for r in back + resolved)
    slack = [r for r in result.journal.of("comms_slack")
             if r.data.get("purpose") in ("monitoring", "resolved")]
    assert slack and all(r.t >= up.t for r in slack)


@pytest.mark.parametrize("name", DOWNTIME_SCENARIOS)
def test_users_who_came_during_the_downtime_are_affected(scenario: Load, name: str) -> None:
    """Visits while the app is down count as impact: users who visited then are among the
    affected, and the downtime has its user-minutes; the report shows the downtime."""
    result, doc = _run(scenario, name, SEEDS[0])
    impact = doc["impact"]
    assert impact["users_visited_down"] > 0 and impact["down_visits"] > 0
    assert impact["user_minutes_down"] == pytest.approx(
        impact["down_visits"] * impact["visit_duration_s"] / 60)
    assert impact["users_impacted"] >= max(impact["users_visited_down"],
                                           impact["users_served_faulty"])
    assert impact["users_impacted"] > impact["users_served_faulty"]
    down, up = _first(result, "app_down"), _first(result, "app_up")
    assert f"app down at {down.t:.1f} s, up again, healthy, at {up.t:.1f} s" in \
        render_markdown(result, doc)
