"""Print the A/A false-positive rate of the phase-2 A/B statistics, and its wall time.

Run: ``python bench/bench_aa.py [--seeds N] [--gate]``. Each seed (its own numpy
Generator) simulates two weeks of a 50 % A/A test: 500 users per arm per day, 9 page loads
each, five metrics (session duration, contacts viewed, actions completed: per-user values;
page-load p95: lognormal page loads; error rate: 0.2 % of page loads) drawn from the same
distribution in both arms, looked at daily. Printed, for 1,000 seeds by default:

- the rate of seeds where the gate gets a difference to act on (a primary metric
  significant either way, a guardrail significantly worse), and where any metric is
  significant either way, with rollout.release.abtest's alpha spending (family-wise α = 0.05,
  exact and Bonferroni boundaries);
- for comparison, naive testing at a fixed α = 0.05 on every look (per metric, and any
  of the five), which the spending exists to prevent;
- wall times: simulation, the vectorized statistics, and with ``--gate`` the real
  ``phase2_gate`` replayed seed by seed on ``Look`` objects.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from rollout.release.abtest import PHASE2_METRICS, Look
from rollout.release.comparisons import (
    normal_two_sided_p,
    p95_statistic,
    pooled_z,
    t_two_sided_p,
    welch_statistic,
)
from rollout.release.gates import phase2_gate
from rollout.release.samples import Arms, Counts, Sample, min_sample_ok
from rollout.release.sequential import BoundaryMethod, boundaries

DAYS, USERS, PAGE_LOADS, ALPHA = 14, 500, 9, 0.05
MEANS = ("session_duration", "contacts_viewed", "actions_completed")
PRIMARY = {m.name for m in PHASE2_METRICS if m.primary}


def one_seed(seed: int) -> dict[str, np.ndarray]:
    """One seed's per-day sums (Σx, Σx²) per arm, or error counts: (2 or 1, 2, days)."""
    rng = np.random.default_rng(seed)
    shape = (2, DAYS, USERS)
    engagement = np.exp(0.5 * rng.standard_normal(shape))
    per_user = {"session_duration": engagement * np.exp(4.5 + 0.8 * rng.standard_normal(shape)),
                "contacts_viewed": rng.poisson(4.0 * engagement).astype(float),
                "actions_completed": rng.poisson(5.5 * engagement).astype(float)}
    out = {k: np.stack([v.sum(axis=2), (v * v).sum(axis=2)]) for k, v in per_user.items()}
    loads = PAGE_LOADS * USERS  # sufficient statistics of lognormal page loads' logs
    mean = rng.normal(math.log(0.8), 0.5 / math.sqrt(loads), (2, DAYS))
    var = 0.25 * rng.chisquare(loads - 1, (2, DAYS)) / (loads - 1)
    out["page_load"] = np.stack([loads * mean, (loads - 1) * var + loads * mean * mean])
    out["error_rate"] = rng.binomial(loads, 0.002, (1, 2, DAYS)).astype(float)
    return out


def cumulative(seeds: int) -> dict[str, tuple[np.ndarray, ...]]:
    """Per metric, cumulative (n, mean, variance) or (events, trials): (seeds, 2, days)."""
    draws = [one_seed(s) for s in range(seeds)]
    sums = {k: np.cumsum(np.stack([d[k] for d in draws]), axis=-1) for k in draws[0]}
    days = np.arange(1.0, DAYS + 1)
    out: dict[str, tuple[np.ndarray, ...]] = {}
    for name in (*MEANS, "page_load"):
        n = days * USERS * (PAGE_LOADS if name == "page_load" else 1)
        mean = sums[name][:, 0] / n
        out[name] = (np.broadcast_to(n, mean.shape), mean,
                     (sums[name][:, 1] - n * mean * mean) / (n - 1))
    out["error_rate"] = (sums["error_rate"][:, 0],
                         np.broadcast_to(days * USERS * PAGE_LOADS, sums["error_rate"][:, 0].shape))
    return out


def p_values(data: dict[str, tuple[np.ndarray, ...]]) -> dict[str, tuple[np.ndarray, ...]]:
    """Per metric, (p, sign of treatment − control), each (seeds, days); p NaN: no test."""
    out: dict[str, tuple[np.ndarray, ...]] = {}
    for name in (*MEANS, "page_load"):
        n, mean, var = data[name]
        args = (n[:, 0], mean[:, 0], var[:, 0], n[:, 1], mean[:, 1], var[:, 1])
        if name == "page_load":
            z = p95_statistic(*args)[2]
            out[name] = (np.asarray(normal_two_sided_p(z)), np.sign(z))
        else:
            _, _, t, df = welch_statistic(*args)
            out[name] = (np.asarray(t_two_sided_p(t, df)), np.sign(t))
    events, trials = data["error_rate"]
    pooled = events.sum(axis=1) / trials.sum(axis=1)
    ok = np.asarray(min_sample_ok(trials[:, 0], pooled) & min_sample_ok(trials[:, 1], pooled))
    z = np.where(ok, pooled_z(events[:, 0], trials[:, 0], events[:, 1], trials[:, 1]), 0.0)
    out["error_rate"] = (np.where(ok, np.asarray(normal_two_sided_p(z)), np.nan), np.sign(z))
    return out


def rates(p: dict[str, tuple[np.ndarray, ...]], nominal: np.ndarray) -> dict[str, float]:
    """Share of seeds with a significant result at some look: per metric, any, gate."""
    sig = {k: np.nan_to_num(v, nan=2.0) <= nominal for k, (v, _) in p.items()}
    acting = [s if k in PRIMARY else s & (p[k][1] > 0) for k, s in sig.items()]
    out = {k: float(s.any(axis=1).mean()) for k, s in sig.items()}
    out["any metric, either way"] = float(np.any([s.any(axis=1) for s in sig.values()],
                                                 axis=0).mean())
    out["gate would act"] = float(np.any([s.any(axis=1) for s in acting], axis=0).mean())
    return out


def looks_of(data: dict[str, tuple[np.ndarray, ...]], seed: int) -> list[Look]:
    """One seed's cumulative looks as the gate takes them."""
    looks = []
    for day in range(DAYS):
        arms: dict[str, Arms[Sample] | Arms[Counts]] = {
            name: Arms(*(Sample(int(data[name][0][seed, a, day]),
                                float(data[name][1][seed, a, day]),
                                float(data[name][2][seed, a, day])) for a in (0, 1)))
            for name in (*MEANS, "page_load")}
        events, trials = data["error_rate"]
        arms["error_rate"] = Arms(*(Counts(int(events[seed, a, day]), int(trials[seed, a, day]))
                                    for a in (0, 1)))
        looks.append(Look(Arms(USERS * (day + 1), USERS * (day + 1)), arms))
    return looks


def show(label: str, figures: dict[str, float], seeds: int) -> None:
    print(f"{label}:")
    for name, rate in figures.items():
        print(f"  {name:<24} {rate:7.2%}  ({round(rate * seeds)}/{seeds})")


def main() -> None:
    """Simulate, test at every look, print the rates and the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--gate", action="store_true", help="replay phase2_gate per seed")
    seeds = parser.parse_args().seeds
    start = time.perf_counter()
    data = cumulative(seeds)
    simulated = time.perf_counter()
    p = p_values(data)
    fractions = [(k + 1) / DAYS for k in range(DAYS)]
    per_metric = ALPHA / len(PHASE2_METRICS)
    exact = np.array([b.nominal_p for b in boundaries(fractions, per_metric)])
    figures = rates(p, exact)
    tested = time.perf_counter()
    print(f"A/A, {seeds:,} seeds, {DAYS} daily looks, {USERS} users per arm per day")
    show(f"alpha spending, exact boundaries (α = {ALPHA} family-wise, {per_metric:g} per metric)",
         figures, seeds)
    bonferroni = [b.nominal_p for b in boundaries(fractions, per_metric, BoundaryMethod.BONFERRONI)]
    show("alpha spending, Bonferroni boundaries", rates(p, np.array(bonferroni)), seeds)
    show(f"naive: p < {ALPHA} at every look, per metric, no split", rates(p, np.full(DAYS, ALPHA)),
         seeds)
    print(f"wall time: simulate {simulated - start:.2f} s, test all looks of all seeds "
          f"{tested - simulated:.2f} s")
    if parser.parse_args().gate:
        replay(data, seeds)


def replay(data: dict[str, tuple[np.ndarray, ...]], seeds: int) -> None:
    """The real gate, seed by seed: how often it says GO, or NO-GO before the final look."""
    start = time.perf_counter()
    decisions = [phase2_gate(looks_of(data, s)) for s in range(seeds)]
    acted = sum(d.go is True or (d.verdict is not None and d.verdict.look < DAYS)
                for d in decisions)
    print(f"phase2_gate replay: acted on a difference in {acted / seeds:.2%} "
          f"({acted}/{seeds}); {time.perf_counter() - start:.1f} s "
          f"({(time.perf_counter() - start) / seeds * 1e3:.1f} ms per seed, 14 looks)")


if __name__ == "__main__":
    main()
