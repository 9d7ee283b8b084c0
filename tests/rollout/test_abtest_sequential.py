"""Repeated looks: the alpha-spending boundaries are right, and an A/A test with daily looks
over two weeks declares a difference in at most 5 % of 1,000 seeds, while a real effect
is found with high power.

The simulation is vectorized: each seed has its own numpy Generator and draws its two
weeks at once (500 users per arm per day, 9 page loads each); the test statistics of all
seeds at a look are computed in one call of the module's array kernels, and a sample of
seeds is replayed through ``rollout.release.abtest.evaluate`` to check that the gate decides the
same.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from rollout.release.abtest import Look, Outcome, evaluate
from rollout.release.comparisons import (
    normal_two_sided_p,
    p95_statistic,
    pooled_z,
    t_two_sided_p,
    welch_statistic,
)
from rollout.release.gates import phase2_gate
from rollout.release.samples import Arms, Counts, Sample, min_sample_ok
from rollout.release.sequential import (
    BoundaryMethod,
    boundaries,
    obrien_fleming,
    obrien_fleming_pooled,
)

DAYS, USERS, PAGE_LOADS, SEEDS = 14, 500, 9, 1000
ALPHA, METRICS = 0.05, 5
FRACTIONS = [(k + 1) / DAYS for k in range(DAYS)]
NAMES = ("session_duration", "contacts_viewed", "actions_completed", "page_load",
         "error_rate")


# --- boundaries --------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(BoundaryMethod))
def test_boundaries_are_monotone_and_spend_exactly_alpha_by_the_final_look(
        method: BoundaryMethod) -> None:
    bounds = boundaries(FRACTIONS, ALPHA, method)
    zs, spent = [b.z for b in bounds], [b.alpha_spent for b in bounds]
    assert all(a > b for a, b in itertools.pairwise(zs))
    assert all(a < b for a, b in itertools.pairwise(spent))
    assert spent[-1] == ALPHA
    assert math.fsum(b.alpha_look for b in bounds) == pytest.approx(ALPHA, rel=1e-12)
    assert bounds[0].z == pytest.approx(stats.norm.isf(obrien_fleming(1 / DAYS, ALPHA) / 2))


def test_spending_function_is_the_lan_demets_obrien_fleming_formula_per_side() -> None:
    """Rule: the default spends α/2 per side with the one-sided O'Brien–Fleming form,
    2·(2 − 2Φ(z_{α/4}/√t)); the pooled option applies that form to all of α."""
    per_side, pooled = stats.norm.isf(ALPHA / 4), stats.norm.isf(ALPHA / 2)
    for t in (0.01, 0.25, 0.5, 0.9):
        expected = 2 * (2 - 2 * (1 - stats.norm.sf(per_side / math.sqrt(t))))
        assert obrien_fleming(t, ALPHA) == pytest.approx(expected, rel=1e-12)
        assert obrien_fleming_pooled(t, ALPHA) == pytest.approx(
            2 - 2 * (1 - stats.norm.sf(pooled / math.sqrt(t))), rel=1e-12)
    for spend in (obrien_fleming, obrien_fleming_pooled):
        assert spend(0.0, ALPHA) == 0.0 and spend(1.0, ALPHA) == ALPHA


def test_default_boundaries_reproduce_the_published_ldbounds_and_gsdesign_table() -> None:
    """Rule: the default is the convention of R's ldbounds and gsDesign. Published values
    for K = 5 equally spaced looks, two-sided α = 0.05, Lan–DeMets O'Brien–Fleming:
    ldbounds ``bounds(t = seq(.2, 1, .2), iuse = c(1, 1), alpha = c(.025, .025))`` and
    gsDesign ``gsDesign(k = 5, test.type = 2, alpha = .025, sfu = sfLDOF)``:
    4.8769 3.3569 2.6803 2.2898 2.0310."""
    bounds = boundaries([0.2, 0.4, 0.6, 0.8, 1.0], 0.05)
    expected = [4.8769, 3.3569, 2.6803, 2.2898, 2.0310]
    assert [b.z for b in bounds] == pytest.approx(expected, abs=2e-4)


def test_the_pooled_option_spends_more_early_with_the_same_total() -> None:
    """Rule: the pooled convention (the one-sided form on all of α) gives lower early
    boundaries — 4.383, 3.100, 2.553, 2.254, 2.064 for K = 5 — and still spends α."""
    bounds = boundaries([0.2, 0.4, 0.6, 0.8, 1.0], 0.05, spending=obrien_fleming_pooled)
    assert [b.z for b in bounds] == pytest.approx([4.383, 3.100, 2.553, 2.254, 2.064],
                                                  abs=2e-3)
    assert bounds[-1].alpha_spent == 0.05


def test_exact_boundaries_cross_with_the_spent_probability_by_monte_carlo() -> None:
    """400,000 Brownian paths under H0: first crossings per look match α(t_k) − α(t_{k−1})."""
    rng = np.random.default_rng(7)
    ts = np.array([0.1, 0.25, 0.5, 0.6, 0.8, 1.0])  # uneven looks
    bounds = boundaries(ts.tolist(), ALPHA)
    steps = rng.normal(0, 1, (400_000, ts.size)) * np.sqrt(np.diff(ts, prepend=0.0))
    z = np.cumsum(steps, axis=1) / np.sqrt(ts)
    crossed = np.abs(z) >= np.array([b.z for b in bounds])
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    overall = float(np.mean(first >= 0))
    se = math.sqrt(ALPHA * (1 - ALPHA) / first.size)
    assert abs(overall - ALPHA) < 4 * se
    late = [float(np.mean(first == k)) for k in range(3, ts.size)]
    assert late == pytest.approx([b.alpha_look for b in bounds[3:]], abs=4 * se)


def test_bonferroni_boundaries_are_conservative() -> None:
    exact, bonf = (boundaries(FRACTIONS, ALPHA, m) for m in BoundaryMethod)
    assert all(b.z >= e.z - 1e-12 for e, b in zip(exact, bonf, strict=True))
    assert bonf[-1].z > exact[-1].z + 0.2


def test_a_look_without_new_information_spends_nothing() -> None:
    bounds = boundaries([0.0, 0.3, 0.3, 1.0], ALPHA)
    assert bounds[0].z == math.inf and bounds[2].z == math.inf
    assert bounds[2].alpha_look == 0.0 and bounds[-1].alpha_spent == ALPHA
    skipped = boundaries([0.3, 1.0], ALPHA)
    assert bounds[3].z == pytest.approx(skipped[1].z, rel=1e-9)


def test_decreasing_information_is_rejected() -> None:
    with pytest.raises(ValueError):
        boundaries([0.5, 0.4], ALPHA)


# --- the A/A simulation ------------------------------------------------------------------


@dataclass
class Cumulative:
    """Cumulative per-arm statistics of every seed: arrays of shape (seeds, 2, days)."""

    means: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # n, mean, variance
    errors: tuple[np.ndarray, np.ndarray]  # events, trials


def one_seed(seed: int, lift: float) -> dict[str, np.ndarray]:
    """Per-day sums (n, Σx, Σx²) per arm of one seed; arm 1 is the treatment."""
    rng = np.random.default_rng(seed)
    shape = (2, DAYS, USERS)
    engagement = np.exp(0.5 * rng.standard_normal(shape))  # correlates the three metrics
    per_user = {
        "session_duration": engagement * np.exp(4.5 + 0.8 * rng.standard_normal(shape))
        * np.array([1.0, 1.0 + lift])[:, None, None],
        "contacts_viewed": rng.poisson(4.0 * engagement).astype(float),
        "actions_completed": rng.poisson(5.5 * engagement).astype(float),
    }
    out = {k: np.stack([v.sum(axis=2), (v * v).sum(axis=2)]) for k, v in per_user.items()}
    loads = PAGE_LOADS * USERS  # lognormal page loads: exact sufficient statistics of logs
    mean = rng.normal(math.log(0.8), 0.5 / math.sqrt(loads), (2, DAYS))
    var = 0.25 * rng.chisquare(loads - 1, (2, DAYS)) / (loads - 1)
    out["page_load"] = np.stack([loads * mean, (loads - 1) * var + loads * mean * mean])
    out["errors"] = rng.binomial(loads, 0.002, (2, DAYS)).astype(float)
    return out


def simulate(seeds: range, lift: float = 0.0) -> Cumulative:
    days = [one_seed(s, lift) for s in seeds]
    sums = {k: np.cumsum(np.stack([d[k] for d in days]), axis=-1) for k in days[0]}
    per_day = {k: USERS for k in NAMES[:3]} | {"page_load": USERS * PAGE_LOADS}
    means = {}
    for name, per in per_day.items():
        n = per * np.arange(1, DAYS + 1, dtype=float)
        total, squares = sums[name][:, 0], sums[name][:, 1]
        mean = total / n
        means[name] = (np.broadcast_to(n, mean.shape), mean,
                       (squares - n * mean * mean) / (n - 1))
    trials = np.broadcast_to(USERS * PAGE_LOADS * np.arange(1.0, DAYS + 1), sums["errors"].shape)
    return Cumulative(means, (sums["errors"], trials))


def p_values(sim: Cumulative) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each metric's fixed-sample two-sided p-value at every look and the sign of
    treatment − control, both (seeds, days); p is NaN where the module would not test
    (PostHog's minimum sample for the error rate)."""
    out = {}
    for name, (n, mean, var) in sim.means.items():
        args = (n[:, 0], mean[:, 0], var[:, 0], n[:, 1], mean[:, 1], var[:, 1])
        if name == "page_load":
            z = p95_statistic(*args)[2]
            out[name] = (np.asarray(normal_two_sided_p(z)), np.sign(z))
        else:
            _, _, t, df = welch_statistic(*args)
            out[name] = (np.asarray(t_two_sided_p(t, df)), np.sign(t))
    events, trials = sim.errors
    pooled = events.sum(axis=1) / trials.sum(axis=1)
    ok = np.asarray(min_sample_ok(trials[:, 0], pooled)) & np.asarray(
        min_sample_ok(trials[:, 1], pooled))
    z = np.where(ok, pooled_z(events[:, 0], trials[:, 0], events[:, 1], trials[:, 1]), 0.0)
    out["error_rate"] = (np.where(ok, np.asarray(normal_two_sided_p(z)), np.nan), np.sign(z))
    return out


def significant(p: dict[str, tuple[np.ndarray, np.ndarray]],
                nominal: np.ndarray) -> dict[str, np.ndarray]:
    """Per metric, (seeds, days): p ≤ the look's nominal level (NaN: not tested)."""
    return {k: np.nan_to_num(v, nan=2.0) <= nominal for k, (v, _) in p.items()}


def gate_claims(p: dict[str, tuple[np.ndarray, np.ndarray]],
                nominal: np.ndarray) -> np.ndarray:
    """Per seed: did any look give the gate a difference to act on? A primary metric
    significant either way (GO's improvement, or a regression), or a guardrail
    significantly worse (NO-GO); a guardrail significantly better changes no decision."""
    sig = significant(p, nominal)
    worse = {"page_load": sig["page_load"] & (p["page_load"][1] > 0),
             "error_rate": sig["error_rate"] & (p["error_rate"][1] > 0)}
    acting = [sig[k] for k in NAMES[:3]] + list(worse.values())
    return np.any([s.any(axis=1) for s in acting], axis=0)


@pytest.fixture(scope="module")
def a_a_sim() -> Cumulative:
    return simulate(range(SEEDS))


@pytest.fixture(scope="module")
def a_a(a_a_sim: Cumulative) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return p_values(a_a_sim)


@pytest.fixture(scope="module")
def per_metric_nominal() -> np.ndarray:
    return np.array([b.nominal_p for b in boundaries(FRACTIONS, ALPHA / METRICS)])


def test_a_a_with_daily_looks_the_gate_declares_a_difference_in_at_most_5_percent(
        a_a: dict[str, tuple[np.ndarray, np.ndarray]], per_metric_nominal: np.ndarray) -> None:
    """1,000 A/A seeds, 14 daily looks, 5 metrics: a difference the gate would act on (GO
    on an improvement, NO-GO on a regression) turns up in at most 5 % of seeds."""
    assert gate_claims(a_a, per_metric_nominal).mean() <= 0.05


def test_a_a_any_metric_either_way_stays_within_the_family_wise_alpha(
        a_a: dict[str, tuple[np.ndarray, np.ndarray]], per_metric_nominal: np.ndarray) -> None:
    """Counting every significant result, even a guardrail that improved: α = 0.05 is
    family-wise by construction (Bonferroni over metrics, O'Brien–Fleming over looks), so
    the true rate is ≤ 5 %; over 1,000 seeds the observed one may exceed it by Monte Carlo
    error (sd ≈ 0.7 %): the bound allows 2.33 sd. Each metric sits near its α/5 = 1 %."""
    sig = significant(a_a, per_metric_nominal)
    family = np.any([s.any(axis=1) for s in sig.values()], axis=0)
    assert family.mean() <= ALPHA + 2.33 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)
    for name, s in sig.items():
        assert s.any(axis=1).mean() <= 0.01 + 3.1 * math.sqrt(0.01 * 0.99 / SEEDS), name


def test_a_a_single_metric_with_its_own_alpha_stays_at_5_percent(
        a_a: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """One metric at α = 0.05 by itself, spent over 14 looks: at most 5 % (+ 2.33 MC sd)."""
    nominal = np.array([b.nominal_p for b in boundaries(FRACTIONS, ALPHA)])
    for name, s in significant(a_a, nominal).items():
        assert s.any(axis=1).mean() <= ALPHA + 2.33 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS), name


def test_naive_fixed_alpha_at_every_look_inflates_the_false_positive_rate(
        a_a: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """What the spending prevents: p < 0.05 at any of 14 daily looks fires ~20 %."""
    naive = significant(a_a, np.full(DAYS, ALPHA))["session_duration"].any(axis=1).mean()
    assert 0.12 < naive < 0.30


def test_a_real_effect_is_detected_with_high_power(per_metric_nominal: np.ndarray) -> None:
    """+30 % session duration: found by the final look in ≥ 99 % of 200 seeds, and early."""
    sig = significant(p_values(simulate(range(10_000, 10_200), lift=0.30)), per_metric_nominal)
    found = sig["session_duration"]
    assert found.any(axis=1).mean() >= 0.99
    assert np.median(found.argmax(axis=1) + 1) <= 5


def look_of(sim: Cumulative, seed: int, day: int) -> Look:
    data: dict[str, Arms[Sample] | Arms[Counts]] = {
        name: Arms(*(Sample(int(n[seed, arm, day]), float(mean[seed, arm, day]),
                            float(var[seed, arm, day])) for arm in (0, 1)))
        for name, (n, mean, var) in sim.means.items()}
    events, trials = sim.errors
    data["error_rate"] = Arms(*(Counts(int(events[seed, arm, day]), int(trials[seed, arm, day]))
                                for arm in (0, 1)))
    users = USERS * (day + 1)
    return Look(Arms(users, users), data)


def test_the_gate_decides_as_the_vectorized_replay_does(
        a_a_sim: Cumulative, a_a: dict[str, tuple[np.ndarray, np.ndarray]],
        per_metric_nominal: np.ndarray) -> None:
    """evaluate() on Look objects reproduces the array kernels' decisions, seed by seed,
    for A/A seeds where the replay fired and as many where it did not; and phase2_gate
    declares a difference (GO, or NO-GO before the final look) only where it fired."""
    sim, p = a_a_sim, a_a
    sig, claims = significant(p, per_metric_nominal), gate_claims(p, per_metric_nominal)
    fired = np.any([s.any(axis=1) for s in sig.values()], axis=0)
    chosen = list(np.flatnonzero(fired)[:8]) + list(np.flatnonzero(~fired)[:4])
    for seed in chosen:
        looks = [look_of(sim, seed, d) for d in range(DAYS)]
        for day, verdict in enumerate(evaluate(looks)):
            for m in verdict.metrics:
                decided = m.decision is not Outcome.INCONCLUSIVE
                assert decided == bool(sig[m.metric][seed, day]), (seed, day, m.metric)
        gate = phase2_gate(looks)
        acted = gate.go is True or (gate.verdict is not None and gate.verdict.look < DAYS)
        assert not acted or claims[seed], (seed, gate.reasons[0])
