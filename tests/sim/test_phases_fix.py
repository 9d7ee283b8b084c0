"""Post-Rollback Actions in the rollout drill: the fix deployed, re-rolled out 10 → 50 →
100 % with the same gates, and repeat incidents counted from what Sentry shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.drills.rollout import run_rollout
from sim.results.run import SectionedResult
from sim.results.writer import summary
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def load(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


def with_completeness(scenario: Scenario, value: float) -> Scenario:
    plan = scenario.rollout
    assert plan is not None and plan.fix is not None
    fix = plan.fix.model_copy(update={"fix_completeness": value})
    return scenario.model_copy(update={"rollout": plan.model_copy(update={"fix": fix})})


def doc_of(result: SectionedResult) -> dict[str, Any]:
    return summary(result) | result.sections


def test_an_incomplete_fix_recurs_and_counts_as_a_repeat_incident() -> None:
    """Fix 80 % complete: the crash comes back on 2.0.1 at the 10 % step, Sentry shows the
    incident's issue in the fix release, the gate says NO-GO and the fix is rolled back;
    repeat_incidents is measured, >= 1, and misses its target of 0."""
    result = run_rollout(load("rollout-fix-incomplete"))
    doc = doc_of(result)
    assert doc["metrics"]["repeat_incidents"] >= 1
    assert doc["status"]["repeat_incidents"] == "fail"
    repeat = result.journal.first("repeat_incident")
    issue = result.journal.first("incident_issue")
    assert repeat is not None and issue is not None
    assert repeat.data["issue"] == issue.data["issue"] and repeat.data["release"] == "2.0.1"
    assert doc["rollout"]["fix"]["outcome"] == "re-rollout rolled back"
    no_go = [g for g in doc["gates"] if g["decision"] == "NO-GO"]
    assert no_go[-1]["phase"] == "re-10" and "repeat incident" in no_go[-1]["reasons"][0]


def test_a_complete_fix_is_re_rolled_out_to_everyone_without_a_repeat() -> None:
    """Fix complete: 10 %, 50 % and 100 % pass their gates, the issue never shows in the
    fix release; repeat_incidents is 0 and passes."""
    doc = doc_of(run_rollout(load("rollout-fix-complete")))
    assert doc["metrics"]["repeat_incidents"] == 0
    assert doc["status"]["repeat_incidents"] == "pass"
    assert doc["rollout"]["fix"]["outcome"] == "re-rollout completed"
    assert [p["name"] for p in doc["rollout"]["phases"]] == ["full", "re-10", "re-50", "re-100"]
    assert doc["rollout"]["final_exposure_pct"] == 100.0


def test_even_a_nearly_complete_fix_shows_up_as_a_repeat() -> None:
    """A fix that is 98 % complete still leaves the crash at 0.6 %: fewer users hit it, but
    the issue is back in Sentry and counts."""
    doc = doc_of(run_rollout(with_completeness(load("rollout-fix-complete"), 0.98)))
    assert doc["metrics"]["repeat_incidents"] >= 1


def test_the_six_metrics_are_measured_for_the_original_incident() -> None:
    """Detection (by the 2-hourly check), decision, rollback and affected users are the
    first incident's; data loss is null with its reason."""
    doc = doc_of(run_rollout(load("rollout-fix-complete")))
    m = doc["metrics"]
    for name in ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s",
                 "affected_users_pct"):
        assert m[name] is not None, name
    assert m["time_to_detect_s"] <= 2 * 3600 + 3600
    assert m["data_loss"] is None and "write ledger" in doc["reasons"]["data_loss"]


def test_without_a_fix_section_repeat_incidents_is_not_measured() -> None:
    """A rollout with no fix phase has no repeat to count: null, with the reason."""
    doc = doc_of(run_rollout(load("rollout-error-regression")))
    assert doc["metrics"]["repeat_incidents"] is None
    assert doc["status"]["repeat_incidents"] == "not_measured"
    assert "no fix" in doc["reasons"]["repeat_incidents"]
