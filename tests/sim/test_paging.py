"""A responder who must be paged, and a false alert before the fault as its own outcome.

The chain alert → page → acknowledgement (by the first level, or by the level the policy
escalates to) → decision, over many seeds of a drill; and a critical alert before any
fault reported as a false positive with its cost, never as detection or a slow rollback.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from rollout.incident.escalation import Role, first_acknowledgement
from sim.drills.run import run_drill
from sim.results.markdown import chain_text, response_chain
from sim.results.markdown import outcome as _outcome
from sim.results.run import RunResult
from sim.results.writer import summary
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario
from sim.scenario.responder import IncidentComms

FLAG_DISABLE = "scenarios/critical-bug-flag-disable.yaml"
SEEDS = range(200)


@cache
def scenario(*overrides: str) -> Scenario:
    return load_scenario(FLAG_DISABLE, overrides)


@cache
def runs(*overrides: str) -> tuple[RunResult, ...]:
    s = scenario(*overrides)
    return tuple(run_drill(s, seed, full_horizon=False) for seed in SEEDS)


def _ack(result: RunResult) -> Any:
    return next((r for r in result.journal.of("comms_pagerduty")
                 if r.data["action"] == "acknowledge"), None)


# ---- the escalation rule -------------------------------------------------------------

def test_first_level_acks_within_the_timeout() -> None:
    """Rule: an Incident Lead who acks before the timeout is the acknowledgement."""
    ack = first_acknowledgement(100.0, lambda level: 120.0, timeout=300.0)
    assert ack is not None and (ack.role, ack.paged_at, ack.at) == (Role.INCIDENT_LEAD, 100, 220)


def test_each_level_paged_draws_its_own_delay_from_its_page() -> None:
    """Rule: a level that does not ack strictly before the timeout hands the page on; the
    next level's delay counts from its own page, and only paged levels are asked."""
    asked: list[int] = []

    def delay(level: int) -> float | None:
        asked.append(level)
        return {1: 300.0, 2: 50.0}[level]

    ack = first_acknowledgement(0.0, delay, timeout=300.0)
    assert ack is not None and (ack.role, ack.paged_at, ack.at) == (Role.DEVOPS_LEAD, 300, 350)
    assert asked == [1, 2]


def test_the_last_level_acks_however_late_and_nobody_means_none() -> None:
    """Rule: the CTO has no one to escalate to, so their ack stands; all None: no ack."""
    late = first_acknowledgement(0.0, lambda level: None if level < 3 else 900.0, 300.0)
    assert late is not None and (late.role, late.at) == (Role.CTO, 1500)
    assert first_acknowledgement(0.0, lambda level: None, 300.0) is None


def test_scenario_states_the_escalation_timeout_pagerduty_default() -> None:
    """Rule: the scenario's escalation timeout defaults to PagerDuty's 30 min; with
    ``ack_delay: null`` the escalated levels still ack with the default delay."""
    comms = IncidentComms(ack_delay=None)
    assert comms.escalation_timeout == 1800.0
    assert comms.level_ack_delay(1) is None and comms.level_ack_delay(2) is not None


# ---- the chain over many seeds --------------------------------------------------------

@pytest.mark.slow
def test_no_decision_before_its_page_is_acknowledged_over_200_seeds() -> None:
    """Rule: a human decides only after the page is acknowledged (alert ≤ page ≤ ack ≤
    decision), in every one of 200 seeds."""
    decided = 0
    for result in runs():
        decision, ack = result.journal.first("decision"), _ack(result)
        if decision is None:
            continue
        decided += 1
        assert ack is not None, f"seed {result.seed}: a decision nobody was paged for"
        assert ack.t <= decision.t, f"seed {result.seed}: decision before the ack"
        assert decision.data["acknowledged_at"] == pytest.approx(ack.t, abs=1e-3)
        steps = [step for _, step, _ in response_chain(result.journal.records)]
        assert steps[0] == "alert" and steps[-1] == "decision" and "ack" in steps
    assert decided >= 190


@pytest.mark.slow
def test_nobody_acking_delays_the_decision_by_the_escalation_timeout() -> None:
    """Rule: ``ack_delay: null`` (the Incident Lead never acks) moves each seed's time to
    decision by at least the escalation timeout; the DevOps Lead acknowledges."""
    timeout = scenario().incident.escalation_timeout
    for base, unacked in zip(runs(), runs("incident.ack_delay=null"), strict=True):
        before = base.metrics.measures["time_to_decision_s"].value
        after = unacked.metrics.measures["time_to_decision_s"].value
        if before is None:
            continue
        assert after is not None and after - before >= timeout - 1e-6, f"seed {base.seed}"
        assert _ack(unacked).data["by"] == "devops-lead"


def test_automation_decides_on_the_webhook_without_an_ack() -> None:
    """Rule: the automated responder acts on the alert itself: it decides after its
    latency even when nobody ever acknowledges the page."""
    s = scenario("responder.mode=automated", "incident.ack_delay=null")
    result = run_drill(s, 7, full_horizon=False)
    alert = next(r for r in result.journal.of("alert") if r.data["action"] == "critical")
    decision = result.journal.first("decision")
    assert decision.t - alert.t == pytest.approx(s.responder.automation_latency, abs=1e-6)
    assert _ack(result) is None or _ack(result).t > decision.t


def test_report_shows_the_chain_with_times() -> None:
    """Rule: report.md's response chain lists alert → page → ack → decision with times."""
    text = chain_text(runs()[7].journal.records)
    assert text.startswith("alert ") and " → page " in text and " → ack " in text
    assert text.split(" → ")[-1].startswith("decision ")


# ---- a false alert before the fault ----------------------------------------------------

def _first_critical(result: RunResult) -> Any:
    return next((r for r in result.journal.of("alert") if r.data["action"] == "critical"),
                None)


# With the errored-session rule Sentry refuses, seed 714 of the default drill alerted two
# hours before the fault; the error-count rule (> 50 errors in 5 min) does not trip on
# background errors. An alert threshold of 6 does: the background's ~2 errors per 5 min
# at the daily peak cross it now and then (seed 706: an alert at 1,635 s).
NOISY = "monitoring.alert.threshold=6"
# The app subscribes to flag changes here, so the false positive's flag-off reaches every
# browser at its next load: with the runbook's render-time read, browsers that persisted
# ON before it still render the new page (and the later fault) once — that case is
# tests/sim/test_browser_clients.py's.
SUBSCRIBES = "flag.client.reads=subscribe"


def test_an_alert_before_the_fault_is_a_false_positive_not_a_slow_rollback() -> None:
    """Rule: a critical alert long before the fault is a false positive with its cost;
    the later fault's detection and rollback are not timed from it."""
    result = run_drill(scenario(NOISY, SUBSCRIBES), 706, full_horizon=False)
    doc = summary(result)
    fp = doc["false_positive"]
    assert fp is not None and fp["alert_s"] < fp["fault_onset_s"] == result.facts["fault_onset_s"]
    assert fp["action"] == "rollback" and fp["rollback_path"] == "posthog-flag-disable"
    assert fp["new_page_off_s"] == pytest.approx(fp["fault_onset_s"] - fp["rollback_completed_s"])
    assert doc["metrics"]["time_to_rollback_s"] is None
    assert doc["status"]["time_to_rollback_s"] == "not_measured"
    assert doc["status"]["time_to_detect_s"] == "not_measured"
    assert "false positive" in doc["reasons"]["time_to_detect_s"]
    assert _outcome(doc) == "false positive"
    assert result.journal.first("false_positive") is not None
    assert result.journal.first("false_positive_cost") is not None


@pytest.mark.slow
def test_every_seed_whose_first_alert_precedes_the_fault_is_a_false_positive() -> None:
    """Rule: over 300 seeds, a run is reported as a false positive exactly when its first
    critical alert fired before the fault, and such a run never times a rollback."""
    s = scenario(NOISY, SUBSCRIBES)
    found = []
    for seed in range(600, 900):
        result = run_drill(s, seed, full_horizon=False)
        doc, first = summary(result), _first_critical(result)
        early = first is not None and first.t < result.facts["fault_onset_s"]
        assert (doc["false_positive"] is not None) == early, f"seed {seed}"
        if early:
            found.append(seed)
            assert _outcome(doc) == "false positive"
            assert doc["metrics"]["time_to_rollback_s"] is None
            assert doc["metrics"]["time_to_detect_s"] is None or \
                doc["metrics"]["time_to_detect_s"] >= 0
    assert 706 in found and len(found) >= 30  # the rule is exercised, not vacuous


def test_a_true_alert_is_not_a_false_positive() -> None:
    """Rule: an alert after the fault began leaves ``false_positive`` null."""
    doc = summary(runs()[7])
    assert doc["false_positive"] is None and _outcome(doc) != "false positive"
