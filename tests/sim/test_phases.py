"""The gradual-rollout drill (``sim.drills.rollout``): the runbook's three phases against the fakes,
each gate's decision journaled with its reasons, and the runbook's NO-GO actions."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sim.drills.rollout import run_rollout
from sim.errors import ScenarioError
from sim.results.run import SectionedResult
from sim.results.writer import summary
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario
from sim.scenario.rollout import Phase
from sim.scenario.units import DistSpec

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def load(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


@cache
def run(name: str) -> SectionedResult:
    """Each catalog drill once per session (they are deterministic)."""
    return run_rollout(load(name))


def doc_of(result: SectionedResult) -> dict[str, Any]:
    """The summary as ``drill run`` writes it once the sections are wired in."""
    return summary(result) | result.sections


def with_plan(scenario: Scenario, **changes: Any) -> Scenario:
    plan = scenario.rollout
    assert plan is not None
    return scenario.model_copy(update={"rollout": plan.model_copy(update=changes)})


def gates(result: SectionedResult) -> list[dict[str, Any]]:
    return [r.data for r in result.journal.of("gate")]


def test_a_good_release_passes_every_gate_and_reaches_everyone() -> None:
    """Phase 1 GO after its week of internal use, phase 2 GO, the 48 h phase-3 watch ends
    in SUCCESS: every phase advances, the exposure ends at 100 %."""
    result = run("rollout-good")
    doc = doc_of(result)
    assert doc["rollout"]["outcome"] == "completed"
    assert [p["result"] for p in doc["rollout"]["phases"]] == ["advance"] * 3
    assert doc["rollout"]["final_exposure_pct"] == 100.0
    last = {g["phase"]: g for g in gates(result)}
    assert last["internal"]["decision"] == "GO" and last["internal"]["look"] == 7
    assert last["full"]["decision"] == "GO" and last["full"]["look"] == 24
    assert last["full"]["reasons"][0].startswith("SUCCESS (phase 3)")
    assert all(g["decision"] != "NO-GO" for g in doc["gates"])
    assert doc["passed"] and doc["metrics"]["time_to_detect_s"] is None


def test_the_summary_lists_every_gate_decision_with_its_reasons() -> None:
    """``gates``: one entry a look, with phase, gate, look, time, decision, action, reasons;
    phase 2's also the α-spending verdict."""
    doc = doc_of(run("rollout-good"))
    assert len(doc["gates"]) == 7 + 7 + 24
    for g in doc["gates"]:
        assert {"phase", "gate", "look", "t_s", "decision", "action", "reasons"} <= set(g)
        assert g["reasons"] and g["decision"] in ("GO", "NO-GO", "CONTINUE")
    ab = [g for g in doc["gates"] if g["gate"] == "phase2"]
    assert all("O'Brien–Fleming" in g["method"] and "alpha_spent" in g for g in ab)
    json.dumps(doc)  # the whole summary is plain JSON


def test_a_plus_point_three_pp_error_rate_is_a_no_go_and_the_feature_goes_off() -> None:
    """0.33 % against the old page's 0.03 %: the phase-1 gate's error rate < 0.1 % is
    missed, NO-GO with the reason journaled, and the env flag is turned off by a build."""
    result = run("rollout-error-regression")
    doc = doc_of(result)
    no_go = next(g for g in gates(result) if g["decision"] == "NO-GO")
    assert no_go["phase"] == "internal" and no_go["action"] == "turn-off"
    assert any("error rate < 0.1%: missed" in r for r in no_go["reasons"])
    decision = result.journal.first("decision")
    assert decision is not None and decision.data["action"] == "turn-off"
    assert doc["rollout"]["outcome"] == "turned off"
    assert doc["rollout"]["final_exposure_pct"] == 0.0
    assert len(doc["rollout"]["phases"]) == 1


def test_a_p95_over_two_seconds_is_a_no_go_through_the_posthog_flag() -> None:
    """A new page with p95 ≈ 3.4 s is the runbook's "performance issues": NO-GO at phase 1;
    in the remote form the exposure goes off by setting the flag to 0 % (no build)."""
    result = run("rollout-slow-page")
    no_go = next(g for g in gates(result) if g["decision"] == "NO-GO")
    assert no_go["reasons"][0] == "NO-GO (phase 1): page load p95 < 2 s"
    assert any("page load p95 < 2 s: missed" in r for r in no_go["reasons"])
    done = result.journal.first("rollback_completed")
    assert done is not None and done.data["active"] is True
    doc = doc_of(result)
    assert doc["facts"]["builds"] == 0 and doc["rollout"]["final_exposure_pct"] == 0.0


def test_phase_two_catches_the_error_regression_with_alpha_spending() -> None:
    """Starting at the A/B test, +0.3 pp is a NO-GO on the error-rate guardrail; the
    verdict names the spending method and the α spent by that look."""
    s = with_plan(load("rollout-error-regression"),
                  phases=(Phase(name="ab-test", exposure=50, gate="phase2", duration=7 * 86400,
                                look_every=86400),))
    result = run_rollout(s)
    no_go = next(g for g in gates(result) if g["decision"] == "NO-GO")
    assert no_go["gate"] == "phase2"
    assert "error_rate" in no_go["reasons"][0]
    assert "O'Brien–Fleming" in no_go["method"] and 0 < no_go["alpha_spent"] < 0.05
    assert any("α spent" in r for r in no_go["reasons"])


def test_phase_two_looks_spend_alpha_until_the_final_look() -> None:
    """With no real difference the A/B test never stops early: each daily look spends more
    of α (O'Brien–Fleming: almost nothing at first), all of it at the last look, where
    "no significant improvement" is a NO-GO."""
    s = load("rollout-good")
    plan = s.rollout
    assert plan is not None
    flat = plan.effects.model_copy(update={"session_duration_lift": 0.0,
                                           "contacts_viewed_lift": 0.0,
                                           "actions_completed": 0.0})
    result = run_rollout(with_plan(s, effects=flat, phases=plan.phases[1:]))
    ab = [g for g in gates(result) if g["gate"] == "phase2"]
    spent = [g["alpha_spent"] for g in ab]
    assert len(ab) == 7 and spent == sorted(spent) and spent[0] < 1e-6
    assert spent[-1] == pytest.approx(0.05)
    assert [g["decision"] for g in ab] == ["CONTINUE"] * 6 + ["NO-GO"]
    assert "no significant improvement" in ab[-1]["reasons"][0]


def test_in_percentage_mode_an_exposure_changes_only_after_its_build() -> None:
    """With a fixed 240 s build, each phase's new exposure is served no sooner than queue
    + build after the phase starts, and only from the deployment its change built."""
    s = load("rollout-error-regression")
    s = s.model_copy(update={"world": s.world.model_copy(update={
        "build_time": DistSpec(dist="fixed", value=240.0)})})
    s = with_plan(s, phases=s.rollout.phases[1:2])  # type: ignore[union-attr]
    result = run_rollout(s)
    started = result.journal.first("phase_started")
    changed = result.journal.first("exposure_changed")
    assert started is not None and changed is not None
    served = [r for r in result.journal.of("exposure_served") if r.data["exposure_pct"] > 0]
    assert served[0].t >= started.t + 5 + 240
    assert served[0].data["deployment_id"] == changed.data["deployment_id"]
    assert [r.data["exposure_pct"] for r in result.journal.of("exposure_served")
            if r.t < served[0].t] == [0.0]


def test_in_remote_mode_an_exposure_changes_at_the_next_page_load() -> None:
    """Through the PostHog flag the exposure is served as soon as the PATCH is saved."""
    result = run("rollout-slow-page")
    started = result.journal.first("phase_started")
    served = [r for r in result.journal.of("exposure_served") if r.data["exposure_pct"] > 0]
    assert started is not None and served[0].t - started.t < 300


def test_a_crash_at_full_exposure_is_rolled_back_by_the_emergency_procedure() -> None:
    """Day 15, everyone on the new page, a crash: the next 2-hourly check finds the new
    fatal issue in Sentry, ROLLBACK by the responder's path; every timing is measured,
    and every user active during the incident was served the faulty page."""
    result = run("rollout-phase3-crash")
    doc = doc_of(result)
    no_go = next(g for g in gates(result) if g["decision"] == "NO-GO")
    assert no_go["gate"] == "phase3" and no_go["action"] == "roll-back"
    assert "critical bug" in no_go["reasons"][0]
    decision = result.journal.first("decision")
    assert decision is not None and decision.data["path"] == "vercel-env-var"
    m = doc["metrics"]
    assert 0 < m["time_to_detect_s"] <= 2 * 3600 + 3600
    assert m["time_to_decision_s"] > 0 and m["time_to_rollback_s"] >= 95
    # at 100 % every user active in the incident got the page; affected users are a
    # share of the day's active users (rule changed on purpose: no longer of the
    # incident's, which made it restate the exposure)
    impact = doc["impact"]
    assert impact["users_served_faulty"] == doc["facts"]["users_active_in_incident"] > 0
    assert 0 < m["affected_users_pct"] < 100
    assert doc["timeline"]["recovered_s"] is not None
    assert doc["rollout"]["outcome"] == "rolled back"


def test_an_instant_rollback_after_env_var_phases_goes_back_one_step_only() -> None:
    """``vercel rollback`` returns to the previous production deployment: after a rollout
    by env var + build that is the 50 % build, so half the users keep the crash and the
    rollback never completes (the drill runs on to the horizon)."""
    s = load("rollout-phase3-crash")
    s = s.model_copy(update={"responder": s.responder.model_copy(
        update={"path": "vercel-rollback"})})
    doc = doc_of(run_rollout(s))
    assert doc["rollout"]["final_exposure_pct"] == pytest.approx(50, abs=2)
    assert doc["metrics"]["time_to_rollback_s"] is None
    assert doc["status"]["time_to_rollback_s"] == "fail"
    assert "still served the faulty page" in doc["reasons"]["time_to_rollback_s"]


def test_same_seed_same_summary_and_another_seed_differs() -> None:
    """Determinism: the summary is a function of the scenario and the seed."""
    s = load("rollout-fix-incomplete")
    first, again = doc_of(run_rollout(s, 3)), doc_of(run_rollout(s, 3))
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert doc_of(run_rollout(s, 4))["gates"] != first["gates"]


GOLDEN = Path(__file__).parent / "golden"
ROLLOUTS = sorted(p.stem for p in SCENARIOS.glob("rollout-*.yaml"))


@pytest.mark.parametrize("name", ROLLOUTS)
def test_golden_summary_of_each_rollout_drill(name: str) -> None:
    """A fixed seed gives exactly the recorded summary, sections included (the files
    ``test_drills.test_golden_summary`` reads too; UPDATE_GOLDEN=1 rewrites them)."""
    doc = doc_of(run(name))
    doc.pop("scenario_digest")
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    assert doc == json.loads(path.read_text())


def test_a_rollout_section_is_validated_with_the_field_named() -> None:
    """A bad value in the rollout section is one error naming the file and the field."""
    with pytest.raises(ScenarioError, match=r"field 'rollout.phases.0.gate'"):
        validate_drill({"name": "x", "rollout": {"phases": [
            {"name": "p", "exposure": 10, "gate": "phase4", "duration": "1d",
             "look_every": "1d"}]}})


def test_the_internal_flag_form_cannot_run_a_percentage_phase() -> None:
    """flag.mode internal (the phase-1 code) shows the page to internal users only: a
    50 % phase is bad input, named by its field."""
    s = with_plan(load("rollout-good")).model_copy(update={
        "flag": load("rollout-good").flag.model_copy(update={"mode": "internal"})})
    with pytest.raises(ScenarioError, match=r"rollout.phases.1.exposure"):
        run_rollout(s)


def validate_drill(data: dict[str, Any]) -> Scenario:
    import tempfile

    import yaml

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(data, f)
    return load_scenario(f.name)
