"""rollout.release.gates: the runbook's phase gates decide go, no-go or keep collecting,
with their reasons; phase 2 over the looks of a simulated A/B test."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from rollout.release.abtest import Look, Outcome, Plan, Status, evaluate
from rollout.release.gates import phase1_gate, phase2_gate, phase3_gate
from rollout.release.samples import Arms, Counts, Sample
from rollout.release.sequential import BoundaryMethod

# --- the runbook's gates -----------------------------------------------------------------


def logs(median_s: float, sigma: float, n: int) -> Sample:
    """Statistics of n lognormal page loads, exactly at their parameters."""
    return Sample(n, math.log(median_s), sigma * sigma)


def test_phase1_go_needs_the_error_rate_upper_bound_below_0_1_percent() -> None:
    gate = phase1_gate(Counts(0, 10_000), logs(0.8, 0.5, 10_000))
    assert gate.go is True and "GO" in gate.reasons[0]


def test_phase1_go_does_not_wait_for_page_load_data() -> None:
    """The runbook's phase-1 GO asks for the error rate and no critical bugs only."""
    gate = phase1_gate(Counts(2, 10_000))
    assert gate.go is True and any("fewer than 2 page loads" in r for r in gate.reasons)


def test_phase1_too_few_page_loads_keeps_collecting() -> None:
    """0 errors in 2,000 loads: PostHog's rule at the 0.1 % limit needs > 5,000 loads."""
    gate = phase1_gate(Counts(0, 2_000), logs(0.8, 0.5, 2_000))
    assert gate.go is None and any("PostHog" in r for r in gate.reasons)


def test_phase1_no_go_on_a_critical_bug_or_a_clear_error_rate_breach() -> None:
    assert phase1_gate(Counts(0, 10_000), critical_bugs=1).go is False
    breach = phase1_gate(Counts(30, 1_000), logs(0.8, 0.5, 1_000))
    assert breach.go is False and "error rate" in breach.reasons[0]


def test_phase1_no_go_on_slow_pages() -> None:
    gate = phase1_gate(Counts(0, 10_000), logs(1.5, 0.5, 10_000))  # p95 ≈ 3.4 s
    assert gate.go is False and "p95" in gate.reasons[0]


def test_phase3_success_rollback_and_keep_monitoring() -> None:
    assert phase3_gate(Counts(300, 100_000), logs(0.8, 0.5, 100_000)).go is True
    assert phase3_gate(Counts(800, 100_000), logs(0.8, 0.5, 100_000)).go is False
    assert phase3_gate(Counts(300, 100_000), logs(0.8, 0.5, 100_000),
                       database_issues=1).go is False
    assert phase3_gate(Counts(45, 10_000), logs(0.8, 0.5, 10_000)).go is None
    assert phase3_gate(Counts(300, 100_000)).go is None  # p95 is required in phase 3


def test_phase3_repeated_checks_widen_the_bound() -> None:
    """48 h checked every 2 h: the 5 % is split 24 ways, so a borderline case is open."""
    once = phase3_gate(Counts(450, 100_000), logs(0.8, 0.5, 100_000))
    many = phase3_gate(Counts(450, 100_000), logs(0.8, 0.5, 100_000), checks=24)
    assert once.go is True and many.go is None


def daily_looks(days: int, users: int, lift: float = 0.0, error_rate_t: float = 0.002,
                seed: int = 0, treatment_users: int | None = None) -> list[Look]:
    """Cumulative looks at a phase-2 test with ``users`` per arm per day."""
    rng = np.random.default_rng(seed)
    looks: list[Look] = []
    total: dict[str, Any] | None = None
    for _ in range(days):
        day: dict[str, dict[str, Any]] = {}
        for arm, factor, rate in (("c", 1.0, 0.002), ("t", 1.0 + lift, error_rate_t)):
            engagement = rng.lognormal(0.0, 0.5, users)
            day[arm] = {
                "session_duration": Sample.of(engagement * rng.lognormal(4.5, 0.8, users)
                                              * factor),
                "contacts_viewed": Sample.of(rng.poisson(4 * engagement)),
                "actions_completed": Sample.of(rng.poisson(5.5 * engagement)),
                "page_load": Sample.of_logs(rng.lognormal(math.log(0.8), 0.5, 9 * users)),
                "error_rate": Counts(int(rng.binomial(9 * users, rate)), 9 * users),
            }
        today = {k: Arms(day["c"][k], day["t"][k]) for k in day["c"]}
        total = today if total is None else {k: _add(total[k], today[k]) for k in today}
        n = len(looks) + 1
        looks.append(Look(Arms(n * users, n * (treatment_users or users)), total))
    return looks


def _add(a: Any, b: Any) -> Any:
    if isinstance(a.control, Counts):
        return Arms(a.control + b.control, a.treatment + b.treatment)
    return Arms(a.control.merge(b.control), a.treatment.merge(b.treatment))


def test_phase2_goes_on_a_real_improvement_early_only_once_guardrails_are_met() -> None:
    """500 users per arm per day: the error-rate guardrail is never established, so the
    improvement waits for the final look; 2,000: GO within days, guardrails met."""
    small = phase2_gate(daily_looks(14, 500, lift=0.3))
    assert small.go is True and small.verdict is not None and small.verdict.look == 14
    assert "no guardrail missed (not established: error_rate)" in small.reasons[0]
    assert small.reasons[1].startswith("runbook targets: session_duration")
    large = phase2_gate(daily_looks(14, 2000, lift=0.3))
    assert large.go is True and large.verdict is not None and large.verdict.look < 14
    assert "guardrails met" in large.reasons[0]
    assert any("later look(s) ignored" in r for r in large.reasons)


def test_phase2_proving_guardrails_needs_enough_page_loads_for_the_error_rate() -> None:
    """With prove_guardrails, non-inferiority (CI of the error-rate difference wholly below
    +0.1 pp) is required at the final look too: out of reach at 500 users per arm per day."""
    strict = Plan(prove_guardrails=True)
    small = phase2_gate(daily_looks(14, 500, lift=0.3), strict)
    assert small.go is False and "guardrails not yet met: error_rate" in small.reasons[0]


def test_phase2_no_go_when_the_error_rate_increases_despite_an_early_improvement() -> None:
    """0.2 % → 0.6 %: session duration is significant by day 3, the error rate later; the
    gate must not GO in between."""
    gate = phase2_gate(daily_looks(14, 500, lift=0.3, error_rate_t=0.006))
    assert gate.go is False and "error_rate" in gate.reasons[0]
    assert gate.verdict is not None and gate.verdict.look < 14


def test_phase2_no_go_on_sample_ratio_mismatch() -> None:
    gate = phase2_gate(daily_looks(3, 500, lift=0.3, treatment_users=600))
    assert gate.go is False and "sample-ratio mismatch" in gate.reasons[0]


def test_phase2_a_a_keeps_collecting_then_no_go_at_the_final_look() -> None:
    looks = daily_looks(14, 500, seed=1)
    assert phase2_gate(looks[:7]).go is None
    final = phase2_gate(looks)
    assert final.go is False and "final look" in final.reasons[0]
    assert "no significant improvement" in final.reasons[0]


def test_phase2_information_by_users_and_looks_past_the_plan() -> None:
    """Users so far / planned users gives the same boundaries as looks so far / planned
    looks when every day brings the same users; a look past the final spends nothing."""
    looks = daily_looks(15, 100, seed=2)
    by_looks, by_users = evaluate(looks[:14]), evaluate(looks[:14], Plan(users=2800))
    assert [v.boundary for v in by_looks] == pytest.approx([v.boundary for v in by_users])
    extra = evaluate(looks)[-1]
    assert extra.boundary == math.inf and extra.alpha_spent == pytest.approx(0.05)
    assert all(m.decision is Outcome.INCONCLUSIVE for m in extra.metrics)


def test_phase2_bonferroni_method_is_named_in_every_verdict() -> None:
    verdict = evaluate(daily_looks(2, 100), Plan(method=BoundaryMethod.BONFERRONI))[-1]
    assert "Bonferroni split of each look's α increment" in verdict.method
    assert verdict.method in verdict.reasons[0]


def test_phase2_verdict_states_method_alpha_boundary_and_each_metric() -> None:
    verdict = evaluate(daily_looks(5, 500, lift=0.3))[-1]
    assert "O'Brien–Fleming" in verdict.method and "Armitage" in verdict.method
    assert 0 < verdict.alpha_spent < verdict.alpha and math.isfinite(verdict.boundary)
    session = verdict.metrics[0]
    assert session.metric == "session_duration" and session.decision is Outcome.IMPROVEMENT
    assert session.comparison is not None and session.comparison.ci is not None
    assert session.target in tuple(Status)
    assert any("target session duration +30 %" in r for r in verdict.reasons)
