"""Analytic cross-checks that can fail: quantile bounds of sums of drawn delays, the decision
bound from the paging chain, the binomial test of runs past a bound, and sweeps that report
a disagreement (a responder slower than the scenario says) or agree (the default drill)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fakes.common.clock import ManualClock
from fakes.sentry.backend import SentryBackend
from rollout.incident.escalation import first_acknowledgement
from sim.drills.responder import ResponderModel
from sim.results.bounds import TAIL, Bound, bounds, decision, rollback
from sim.results.crosscheck import ALPHA, check, tail_p
from sim.results.detection import update_ticks
from sim.results.quantiles import escalation, of_dist, sum_bounds
from sim.scenario.model import Scenario
from sim.scenario.units import DistSpec
from sim.sweeps.executors import SerialExecutor
from sim.sweeps.report import render_terminal, write_sweep
from sim.sweeps.sweep import collect, plan_sweep, sweep_document
from sim.world.monitoring import SentryPipeline

Load = Callable[..., Scenario]
LOGNORMAL = DistSpec(dist="lognormal", median=20.0, sigma=0.4)


def test_the_p99_of_one_lognormal_is_its_closed_form() -> None:
    """Rule: for a single draw the bound is the distribution's own 1 % and 99 % quantiles
    (median · exp(±σ·z₀.₉₉)), to within the grid's step."""
    low, high = sum_bounds([of_dist(LOGNORMAL)], 0.99)
    z = 2.3263478740408408
    assert high == pytest.approx(20 * math.exp(0.4 * z), rel=1e-3)
    assert high >= 20 * math.exp(0.4 * z)  # rounded outwards, never inwards
    assert low == pytest.approx(20 * math.exp(-0.4 * z), rel=1e-3)
    assert low <= 20 * math.exp(-0.4 * z)


def test_a_sum_is_bounded_by_its_own_quantiles_not_the_sum_of_each_terms() -> None:
    """Rule: P(sum > high) ≤ 1 % and P(sum < low) ≤ 1 % for three independent step times,
    and the bound is tighter than adding three p99s (which would hold ≈ 99.99 %)."""
    low, high = sum_bounds([of_dist(LOGNORMAL)] * 3, 0.99)
    draws = 20.0 * np.exp(0.4 * np.random.default_rng(3).standard_normal((400_000, 3)))
    total = draws.sum(axis=1)
    se = math.sqrt(0.01 * 0.99 / len(total))
    assert np.mean(total > high) <= 0.01 + 3 * se
    assert np.mean(total > high) >= 0.01 - 3 * se - 0.001  # and not far inside it
    assert np.mean(total < low) <= 0.01 + 3 * se
    assert high < 3 * sum_bounds([of_dist(LOGNORMAL)], 0.99)[1]


def test_a_clipped_draw_never_passes_its_max() -> None:
    """Rule: ``max`` clips a draw (``DistSpec.sample``), so it caps the bound too."""
    clipped = DistSpec(dist="lognormal", median=20.0, sigma=0.4, max=30.0)
    assert sum_bounds([of_dist(clipped)], 0.99)[1] <= 30.0 + 1e-9


def test_the_escalation_cdf_is_first_acknowledgements_distribution() -> None:
    """Rule: the acknowledgement time's CDF is that of ``first_acknowledgement`` — level 1
    within the timeout, else level 2 paged a timeout later, the last level however late —
    checked against 100,000 draws of the real function, with a level that never acks."""
    timeout, slow = 300.0, DistSpec(dist="lognormal", median=250.0, sigma=0.6)
    chains: list[list[DistSpec | None]] = [[slow, slow, slow], [None, slow, slow]]
    for levels in chains:
        rng = np.random.default_rng(11)

        def delay(level: int, lv: list[DistSpec | None] = levels,
                  g: np.random.Generator = rng) -> float | None:
            d = lv[level - 1]
            return None if d is None else d.sample(g)

        times = []
        for _ in range(100_000):
            ack = first_acknowledgement(0.0, delay, timeout)
            times.append(math.inf if ack is None else ack.at)
        cdf = escalation(levels, timeout)
        for x in (100.0, 299.0, 301.0, 500.0, 700.0, 1000.0):
            assert cdf(np.asarray([x]))[0] == pytest.approx(np.mean(np.asarray(times) <= x),
                                                            abs=0.005), (levels, x)


def test_decision_bound_is_the_paging_chain_plus_the_decision_delay(scenario: Load) -> None:
    """Rule: a human's decision waits for the page's acknowledgement; nobody at level 1
    acking moves the whole range by at least one escalation timeout; the automated
    responder takes its latency, a hard range (tail 0)."""
    s = scenario("critical-bug-flag-disable")
    paged = decision(s)
    assert paged.tail == TAIL and paged.low is not None and paged.high is not None
    # ack alone (median 120 s) and the decision alone (median 75 s) are both below the sum
    alone = sum_bounds([of_dist(s.responder.decision_delay)], 0.99)
    assert paged.high > alone[1] + 120 and paged.low > alone[0]
    silent = decision(scenario("critical-bug-flag-disable", "incident.ack_delay=null",
                               "incident.escalation_timeout=10m"))
    assert silent.low is not None and silent.low >= paged.low + 600 - 1  # grid: ≤ 1 s
    assert "Incident Lead never" in silent.how
    auto = decision(scenario("critical-bug-flag-disable", "responder.mode=automated"))
    assert (auto.low, auto.high, auto.tail) == (1.0, 1.0, 0.0)


def test_rollback_bound_is_steps_and_platform_terms_plus_a_tick(scenario: Load) -> None:
    """Rule: vercel-env-var: 3 step times + its 5 Vercel API calls' latency + queue + build,
    one tick added to the high end; with nothing drawn the range is exact."""
    s = scenario("critical-bug-env-var", "world.build_time=240s", "world.queue_time=5s",
                 "world.api_latency=0s")
    steps = sum_bounds([of_dist(s.responder.step_time)] * 3, 0.99)
    b = rollback(s)
    assert b.low == pytest.approx(245 + steps[0], abs=1e-3)
    assert b.high == pytest.approx(245 + steps[1] + s.tick, abs=1e-3)
    fixed = rollback(scenario("critical-bug-env-var", "world.build_time=240s",
                              "world.queue_time=5s", "world.api_latency=0s",
                              "responder.step_time=20s"))
    assert (fixed.low, fixed.high, fixed.tail) == (305.0, 315.0, 0.0)
    calls = rollback(scenario("critical-bug-env-var", "world.build_time=240s",
                              "world.queue_time=5s", "world.api_latency=1s",
                              "responder.step_time=20s"))
    assert (calls.low, calls.high) == (310.0, 320.0)


def test_a_low_end_past_the_target_is_a_warning_in_so_many_words(scenario: Load) -> None:
    """Rule: a hard minimum at or past the target 'cannot be met whatever the seed'; a 1 %
    quantile at or past it is 'met in at most 1 %' (not 'whatever the seed')."""
    hard = decision(scenario("critical-bug-flag-disable", "incident.ack_delay=null"))
    assert hard.warning and "cannot be met whatever the seed" in hard.warning
    slow = decision(scenario("critical-bug-flag-disable",
                             "incident.ack_delay={dist: lognormal, median: 400s, sigma: 0.3}"))
    assert slow.warning and "met in at most 1 %" in slow.warning


@pytest.mark.parametrize(("k", "n", "verdict"), [(0, 100, "agrees"), (3, 100, "agrees"),
                                                 (7, 100, "DISAGREES"), (2, 5, "DISAGREES")])
def test_runs_past_a_p99_end_disagree_only_when_implausibly_many(k: int, n: int,
                                                                 verdict: str) -> None:
    """Rule: a p99 end lets ~1 % of runs past it; the check says DISAGREES when P(X ≥ k),
    X ~ Binomial(n, 0.01), is under ALPHA (7 of 100: 1.2e-4; 3 of 100: 0.08)."""
    b = Bound("time_to_decision_s", 10.0, 100.0, "test", tail=0.01)
    result = check(b, [50.0] * (n - k) + [150.0] * k)
    assert result.verdict == verdict and result.above == k
    assert (tail_p(k, n, 0.01) < ALPHA) == (verdict == "DISAGREES")
    assert f"{k} of {n} runs over" in result.detail or k == 0


def test_a_hard_end_allows_no_run_past_it_and_a_caveat_excuses_nothing() -> None:
    """Rule: with tail 0 one run past the end disagrees; a bound that says its mechanics may
    not hold (a marginal breach) still disagrees, and the detail says why; a run that
    never got there is past the high end."""
    firm = Bound("time_to_detect_s", 0.0, 372.0, "rule")
    assert check(firm, [100.0, 372.0]).verdict == "agrees"
    assert check(firm, [100.0, 372.5]).verdict == "DISAGREES"
    never = check(firm, [100.0, math.inf])
    assert never.verdict == "DISAGREES" and "never got there" in never.detail
    marginal = Bound("time_to_detect_s", 0.0, 372.0, "rule", caveat="a sustained breach")
    out = check(marginal, [100.0, 500.0])
    assert out.verdict == "DISAGREES" and "a sustained breach" in out.detail


def _slower(monkeypatch: pytest.MonkeyPatch, factor: float) -> None:
    """The simulated human decides ``factor`` × slower than the scenario's decision delay
    (which the bound is built from)."""
    original = ResponderModel.decision_delay
    monkeypatch.setattr(ResponderModel, "decision_delay",
                        lambda self: factor * original(self) if self.human else original(self))


def test_a_sweep_whose_responder_is_slower_than_its_bound_reports_the_disagreement(
        scenario: Load, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Rule: a violated bound is reported, not excused: runs that decide 5 × slower than the
    scenario's decision delay put far more than 1 % of runs past the decision bound's p99
    end — DISAGREES in sweep.json (analytic and disagreements), the terminal summary and
    report.html; the rollback bound, whose mechanics are untouched, still agrees."""
    _slower(monkeypatch, 5.0)
    plan = plan_sweep(scenario("critical-bug-flag-disable"), 20)
    rows = collect(plan, SerialExecutor())
    doc = sweep_document(plan, rows)
    checks = {a["metric"]: a for a in doc["analytic"]}
    assert checks["time_to_decision_s"]["cross_check"] == "DISAGREES"
    assert checks["time_to_decision_s"]["exceedance"]["above"] >= 10
    assert checks["time_to_rollback_s"]["cross_check"] == "agrees"
    assert any(d.startswith("time_to_decision_s:") for d in doc["disagreements"])
    write_sweep(plan, doc, rows, tmp_path, html=True)
    written = json.loads((tmp_path / "sweep.json").read_text())
    assert written["disagreements"] == doc["disagreements"]
    screen = render_terminal(doc)
    assert "✗ cross-check DISAGREES: time_to_decision_s" in screen
    page = (tmp_path / "report.html").read_text()
    assert "Cross-check disagrees" in page and "P(within estimate)" in page


def test_the_default_drill_agrees_with_its_bounds(scenario: Load) -> None:
    """Rule: the bounds are finite and the default scenario's own runs agree with them,
    detection's first passage included (scenarios/critical-bug-flag-disable.yaml as
    written, 60 seeds)."""
    s = scenario("critical-bug-flag-disable", fast=False)
    assert all(b.high is not None and math.isfinite(b.high) for b in bounds(s))
    plan = plan_sweep(s, 60)
    doc = sweep_document(plan, collect(plan, SerialExecutor()))
    checks = {a["metric"]: a for a in doc["analytic"]}
    for metric in ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s"):
        assert checks[metric]["cross_check"] == "agrees", checks[metric]
        assert checks[metric]["quantile"] == 0.99 and checks[metric]["high"] is not None


def test_the_first_passage_counts_the_window_the_sentry_fake_counts(scenario: Load) -> None:
    """Rule: for every subscription update after the onset, the first-passage model's
    data range (``update_ticks``) holds exactly the events the Sentry fake's count rule
    measures in that update (one event a tick, stamped mid-tick): same update stamps,
    same window edges."""
    s = scenario("critical-bug-flag-disable", fast=False)
    tick, onset, until = s.tick, 3600.0, 3600.0 + 900.0
    starts = np.arange(onset - 600.0, until, tick)
    stamp = starts + tick / 2
    clock = ManualClock(0.0, epoch=s.start)
    backend = SentryBackend(clock)
    backend.create_alert_rule(s.monitoring.alert.payload("production", backend.project_slug))
    for t in stamp:
        backend.record_error_events("2.0.0", "production", float(t), 1)
    clock.set(until + s.monitoring.alert.subscription_delay_s)
    measured = {r["end"]: r["value"] for r in backend.evaluate_alert_rules()}
    ends, lo, hi = update_ticks(s, onset, until, stamp)
    assert len(ends) == 15
    for end, a, b in zip(ends, lo, hi, strict=True):
        assert measured[end] == float(b - a), end


def test_a_marginal_count_breach_is_bounded_by_its_first_passage(scenario: Load) -> None:
    """Rule: on the default drill the fault's steady count is only 1.24 × the threshold,
    so its detection bound is the first passage's 99 % quantile, longer than the
    sustained-breach closed form and with a 1 % tail; a breach far over the threshold
    keeps the closed form (no run may pass it)."""
    marginal = bounds(scenario("critical-bug-flag-disable", fast=False))[0]
    closed = SentryPipeline(None, scenario("critical-bug-flag-disable").monitoring)
    assert marginal.tail == TAIL and marginal.firm and "first passage" in marginal.how
    assert marginal.high is not None and marginal.high > closed.alert_bound() + 10.0
    firm = bounds(scenario("critical-bug-flag-disable", "faults.0.error_rate=0.9"))[0]
    assert firm.tail == 0.0 and "first passage" not in firm.how


def test_the_warnings_skip_the_first_passage_and_say_the_same(
        scenario: Load, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule: ``drill run``'s warnings never compute a marginal breach's first passage (it
    gives a range, never a warning), and are the warnings of the full bounds, on a
    marginal breach and on one whose decision no seed can make in time."""
    import sim.results.bounds as bounds_module

    for s in (scenario("critical-bug-flag-disable", fast=False),
              scenario("critical-bug-flag-disable", "incident.ack_delay=null",
                       "incident.escalation_timeout=10m", fast=False)):
        full = [b.warning for b in bounds(s) if b.warning]
        assert bounds(s)[0].high is not None  # the first passage, where it is computed
        with monkeypatch.context() as m:
            m.setattr(bounds_module, "_first_passage", _never_called)
            assert bounds_module.warnings(s) == full


def _never_called(*_: object) -> float:
    raise AssertionError("the first passage was computed")


def test_drill_run_prints_the_targets_no_seed_can_meet(tmp_path: Path) -> None:
    """Rule: ``drill run`` shows the analytic warnings beside the run: with nobody at
    level 1 acknowledging, the decision takes at least the escalation timeout."""
    from click.testing import CliRunner

    from sim.cli import cli

    fast = ("population.users=5000", "horizon=3h", "faults.0.at=1h",
            "monitoring.alert.threshold=12", "incident.ack_delay=null",
            "incident.escalation_timeout=10m")
    result = CliRunner().invoke(cli, ["run", "--no-html", "--out", str(tmp_path),
                                      *(x for o in fast for x in ("--set", o))])
    assert "⚠ time to decision: at least 600 s by construction" in result.output


def test_a_range_that_excludes_nothing_is_not_called_agreement() -> None:
    """Rule: 0–∞ s cannot be contradicted, so the check says "no closed form", not
    "agrees"; a low end alone still tests."""
    assert check(Bound("time_to_rollback_s", 0.0, None, "open"), [5.0]).verdict == \
        "no closed form"
    assert check(Bound("time_to_rollback_s", 20.0, None, "low only"), [5.0]).verdict == \
        "DISAGREES"
