"""rollout.release.abtest: each test agrees with scipy on the same data, degenerate data gives an
inconclusive verdict with a reason (never an exception or a NaN), SRM is flagged when the
split is off, and the runbook's phase gates decide with their reasons.

scipy's own tests (``ttest_ind``, ``norm``) on the same data are the reference.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from rollout.release.abtest import Look, Outcome, Plan, Status, evaluate
from rollout.release.comparisons import (
    p95_statistic,
    p95_test,
    proportion_test,
    srm_test,
    welch_test,
)
from rollout.release.gates import phase1_gate, phase2_gate, phase3_gate
from rollout.release.samples import Arms, Counts, Sample
from rollout.release.sequential import BoundaryMethod

RTOL = 1e-9


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# --- the tests agree with scipy ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_welch_matches_scipy_ttest_ind_statistic_p_df_and_ci(seed: int) -> None:
    rng = np.random.default_rng(seed)
    control = rng.lognormal(4.0, 1.0, int(rng.integers(5, 3000)))
    treatment = rng.lognormal(4.1, 0.7, int(rng.integers(5, 3000)))
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    ours = welch_test(Sample.of(control), Sample.of(treatment), alpha=0.05)
    assert ours.statistic is not None and ours.p_value is not None and ours.df is not None
    assert rel(ours.statistic, ref.statistic) < RTOL
    assert rel(ours.p_value, ref.pvalue) < RTOL
    assert rel(ours.df, ref.df) < RTOL
    ci = ref.confidence_interval(0.95)
    assert ours.ci is not None
    assert rel(ours.ci[0], ci.low) < RTOL and rel(ours.ci[1], ci.high) < RTOL


def test_welch_ci_at_a_tiny_alpha_matches_scipy_t_isf() -> None:
    """The early sequential looks ask for CIs at levels like 1 − 1e-12. (scipy's own
    ``confidence_interval(1 - 1e-12)`` rounds 1 − 5e-13 and so is off by ~1e-6: the
    reference is built from its statistic, df and ``t.isf`` instead.)"""
    rng = np.random.default_rng(11)
    control, treatment = rng.normal(10, 3, 400), rng.normal(11, 4, 500)
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    diff = treatment.mean() - control.mean()
    half = stats.t.isf(0.5e-12, ref.df) * diff / ref.statistic
    ours = welch_test(Sample.of(control), Sample.of(treatment), alpha=1e-12).ci
    assert ours is not None
    assert rel(ours[0], diff - half) < RTOL and rel(ours[1], diff + half) < RTOL


def test_two_proportion_p_value_matches_the_textbook_z_with_scipy_norm() -> None:
    for (ec, nc), (et, nt) in [((40, 20000), (62, 20000)), ((9, 4500), (30, 4400)),
                               ((300, 1000), (280, 1100))]:
        pooled = (ec + et) / (nc + nt)
        z = (et / nt - ec / nc) / math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
        ours = proportion_test(Counts(ec, nc), Counts(et, nt))
        assert ours.statistic is not None and ours.p_value is not None
        assert rel(ours.statistic, z) < RTOL
        assert rel(ours.p_value, 2 * stats.norm.sf(abs(z))) < RTOL


def test_newcombe_interval_matches_newcombe_1998_example() -> None:
    """Newcombe (1998), Stat Med 17:873, method 10: 56/70 − 48/80 → [0.0524, 0.3339]."""
    ci = proportion_test(Counts(48, 80), Counts(56, 70)).ci
    assert ci is not None
    assert ci[0] == pytest.approx(0.0524, abs=1e-4) and ci[1] == pytest.approx(0.3339, abs=1e-4)


def test_sample_merge_equals_the_statistics_of_the_concatenation() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(5, 2, 300), rng.normal(7, 1, 17)
    merged, whole = Sample.of(a).merge(Sample.of(b)), Sample.of(np.concatenate([a, b]))
    assert merged.n == whole.n
    assert rel(merged.mean, whole.mean) < 1e-12 and rel(merged.variance, whole.variance) < 1e-12


def test_lognormal_p95_ci_covers_the_true_p95_about_95_percent_of_the_time() -> None:
    """The delta-method variance of ln p95 is right: 4,000 lognormal samples of 300."""
    rng = np.random.default_rng(3)
    logs = rng.normal(math.log(0.8), 0.5, (4000, 300))
    n, mean, var = 300, logs.mean(axis=1), logs.var(axis=1, ddof=1)
    true_log_p95 = math.log(0.8) + 0.5 * stats.norm.ppf(0.95)
    # compare each sample with a zero-variance "arm" at the true p95: z = (q − truth)/se
    d, _, z = p95_statistic(10**12, true_log_p95 - 0.5 * stats.norm.ppf(0.95), 0.25, n, mean,
                            var)
    coverage = float(np.mean(np.abs(z) < stats.norm.ppf(0.975)))
    assert 0.94 < coverage < 0.96
    assert abs(float(np.mean(d))) < 0.01


def test_p95_test_reports_seconds_and_compares_the_p95_not_the_median() -> None:
    """Same median, fatter tail in treatment: Welch on log means would see nothing."""
    rng = np.random.default_rng(4)
    control = rng.lognormal(math.log(0.8), 0.4, 20000)
    treatment = rng.lognormal(math.log(0.8), 0.6, 20000)
    c = p95_test(Sample.of_logs(control), Sample.of_logs(treatment))
    assert c.control == pytest.approx(np.quantile(control, 0.95), rel=0.03)
    assert c.treatment == pytest.approx(np.quantile(treatment, 0.95), rel=0.03)
    assert c.p_value is not None and c.p_value < 1e-12
    welch_on_logs = stats.ttest_ind(np.log(treatment), np.log(control), equal_var=False)
    assert welch_on_logs.pvalue > 0.001


# --- sample-ratio mismatch ---------------------------------------------------------------


def test_srm_matches_scipy_chisquare_and_flags_45_55_not_50_50() -> None:
    skewed = srm_test(Arms(9_000, 11_000))
    ref = stats.chisquare([9_000, 11_000], f_exp=[10_000, 10_000])
    assert skewed.chi2 is not None and skewed.p_value is not None
    assert rel(skewed.chi2, ref.statistic) < RTOL and rel(skewed.p_value, ref.pvalue) < RTOL
    assert skewed.flagged and "mismatch" in skewed.reason
    fair = srm_test(Arms(10_040, 9_960))
    assert not fair.flagged and fair.p_value is not None and fair.p_value > 0.5


def test_srm_against_an_uneven_expected_split_matches_scipy() -> None:
    result = srm_test(Arms(880, 120), treatment_share=0.1)
    ref = stats.chisquare([880, 120], f_exp=[900, 100])
    assert result.p_value is not None and rel(result.p_value, ref.pvalue) < RTOL


# --- degenerate input: inconclusive with a reason, never an exception or NaN -------------


def floats_in(obj: Any) -> list[float]:
    """Every float inside nested dataclasses, tuples, lists and dicts."""
    if isinstance(obj, float):
        return [obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [x for f in dataclasses.fields(obj) for x in floats_in(getattr(obj, f.name))]
    if isinstance(obj, (tuple, list)):
        return [x for item in obj for x in floats_in(item)]
    if isinstance(obj, dict):
        return [x for item in obj.values() for x in floats_in(item)]
    return []


def look(n: int, sample: Sample, counts: Counts) -> Look:
    return Look(Arms(n, n), {"session_duration": Arms(sample, sample),
                             "contacts_viewed": Arms(sample, sample),
                             "actions_completed": Arms(sample, sample),
                             "page_load": Arms(sample, sample),
                             "error_rate": Arms(counts, counts)})


@pytest.mark.parametrize("case", [
    look(0, Sample(0), Counts(0, 0)),
    look(1, Sample(1, 3.0), Counts(0, 1)),
    look(500, Sample(500, 3.0, 0.0), Counts(0, 4500)),
    look(500, Sample(500, 0.0, 0.0), Counts(4500, 4500)),
], ids=["no users", "one user", "zero variance, no errors", "zeros, all errors"])
def test_degenerate_looks_are_inconclusive_with_reasons_and_no_nan(case: Look) -> None:
    verdict = evaluate([case])[0]
    assert all(m.decision is Outcome.INCONCLUSIVE for m in verdict.metrics)
    assert all(m.reasons and m.comparison and m.comparison.problem for m in verdict.metrics)
    assert not any(math.isnan(x) for x in floats_in(verdict))
    gate = phase2_gate([case])
    assert gate.go is None and gate.reasons
    assert not any(math.isnan(x) for x in floats_in(gate))


def test_zero_users_by_sample_size_spends_nothing_and_stays_inconclusive() -> None:
    verdict = evaluate([look(0, Sample(0), Counts(0, 0))], Plan(users=10_000))[0]
    assert verdict.boundary == math.inf and verdict.alpha_spent == 0.0
    assert all(m.decision is Outcome.INCONCLUSIVE for m in verdict.metrics)


def test_missing_metric_is_inconclusive_with_a_reason() -> None:
    verdict = evaluate([Look(Arms(10, 10), {})])[0]
    assert all(m.comparison is None and "no data" in m.reasons[0] for m in verdict.metrics)


def test_one_arm_without_variance_still_tests_welch() -> None:
    """The runbook's control completes 0 actions: a constant arm is not degenerate."""
    c = welch_test(Sample(7000, 0.0, 0.0), Sample(7000, 5.2, 9.0))
    assert c.p_value is not None and c.p_value < 1e-100 and c.df == pytest.approx(6999)
    assert c.lift is None and c.lift_ci is None


def test_proportions_need_posthogs_minimum_sample() -> None:
    """n·p > 5 and n·(1 − p) > 5 in each arm, p the pooled rate, before a test."""
    few = proportion_test(Counts(1, 2000), Counts(8, 2000))
    assert few.p_value is None and few.problem and "PostHog" in few.problem
    enough = proportion_test(Counts(3, 1000), Counts(9, 1000))
    assert enough.p_value is not None


def test_bad_input_raises_value_error() -> None:
    with pytest.raises(ValueError):
        Counts(5, 3)
    with pytest.raises(ValueError):
        Sample.of([1.0, float("nan")])
    with pytest.raises(ValueError):
        Sample.of_logs([0.5, 0.0])
    with pytest.raises(ValueError):
        srm_test(Arms(5, 5), treatment_share=1.0)


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
