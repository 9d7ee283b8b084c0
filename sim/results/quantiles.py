"""Quantile bounds of a sum of independent random durations, computed, not sampled.

The analytic cross-checks (``sim.results.bounds``) bound a timing metric that is a sum of
independent draws (an acknowledgement, a decision delay, manual steps, a build) by the
sum's own quantiles: ``sum_bounds(components, q)`` returns ``(low, high)`` with

    P(sum < low) ≤ 1 − q   and   P(sum > high) ≤ 1 − q.

How: the sum's q-quantile is at most R = Σ F_i⁻¹(1 − (1 − q)/k) over the k components (a
union bound: the sum can pass R only if some component passes its own quantile), so the
sum's distribution is computed exactly on the grid [0, R] of N steps h = R/N by convolving
the components' distributions, each rounded *up* to the grid for ``high`` (the rounded sum
is ≥ the true one, so its quantile is too: ``high`` overshoots the exact q-quantile by at
most k·h) and *down* for ``low`` (undershooting the exact (1 − q)-quantile by at most
k·h). Nothing is sampled: the same distributions give the same bounds.

A component is a ``Cdf``: the CDF of the draw (vectorized over numpy arrays), which may
stay below 1 when the draw can be infinite (nobody ever acknowledges); ``of_dist`` makes
one of a scenario ``DistSpec`` (its ``max`` clip included) and ``escalation`` the time to
the first acknowledgement of a page under an escalation policy
(``rollout.incident.escalation.first_acknowledgement``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from sim.scenario.units import DistSpec

Cdf = Callable[[np.ndarray], np.ndarray]
GRID = 4096  # steps of the grid the sum's distribution is computed on


def of_dist(dist: DistSpec) -> Cdf:
    """The CDF of one draw of ``dist`` (``DistSpec.sample``: clipped at ``max``)."""

    def cdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = _unclipped(dist, x)
        return np.where(x >= dist.max, 1.0, out) if dist.max is not None else out

    return cdf


def _unclipped(d: DistSpec, x: np.ndarray) -> np.ndarray:
    fixed = _constant(d)
    if fixed is not None:
        return (x >= fixed).astype(float)
    if d.dist == "lognormal":
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0.0)) - math.log(d.median or 0.0)) / (d.sigma or 1.0)
        from scipy import stats  # here, not at the top: scipy.stats takes a second to load

        return np.asarray(stats.norm.cdf(z), dtype=float)
    if d.dist == "uniform":
        low, high = d.low or 0.0, d.high or 0.0
        return np.clip((x - low) / (high - low), 0.0, 1.0)
    return np.where(x >= 0, -np.expm1(-np.maximum(x, 0.0) / (d.mean or 1.0)), 0.0)


def fixed_value(d: DistSpec) -> float | None:
    """The value a distribution always draws (its ``max`` clip included), or None when it
    varies."""
    value = _constant(d)
    if value is None:
        return 0.0 if d.max == 0 else None
    return min(value, d.max) if d.max is not None else value


def _constant(d: DistSpec) -> float | None:
    if d.dist == "fixed":
        return d.value or 0.0
    if d.dist == "lognormal" and (d.sigma == 0 or not d.median):
        return d.median or 0.0
    if d.dist == "uniform" and d.low == d.high:
        return d.low or 0.0
    if d.dist == "exponential" and not d.mean:
        return 0.0
    return None


def below(dist: DistSpec, t: float) -> float:
    """P(a draw of ``dist`` < ``t``), strictly (an acknowledgement at the deadline is late)."""
    if dist.max is not None and dist.max < t:
        return 1.0
    fixed = fixed_value(dist)
    if fixed is not None:
        return float(fixed < t)
    return float(of_dist(dist)(np.asarray([t]))[0])  # continuous: P(X < t) = F(t)


def escalation(levels: Sequence[DistSpec | None], timeout: float) -> Cdf:
    """The CDF of the time from the first page to its first acknowledgement: level i (of
    ``levels``, None: never acknowledges) is paged ``timeout`` after level i − 1 unless that
    one acknowledged strictly before its deadline; the last level's acknowledgement stands
    however late. The CDF stays below 1 by the chance that nobody ever acknowledges."""

    def cdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        total, reach = np.zeros_like(x), 1.0  # reach: P(level i is paged at all)
        for i, dist in enumerate(levels):
            start, last = i * timeout, i == len(levels) - 1
            if dist is not None:
                f = of_dist(dist)
                if last:
                    total += reach * f(x - start)
                else:  # acknowledged by this level before its deadline, and by x
                    in_time = np.where(x - start < timeout, f(x - start), below(dist, timeout))
                    total += reach * in_time
                    reach *= 1.0 - below(dist, timeout)
        return total

    return cdf


def quantile(cdf: Cdf, p: float) -> float:
    """The smallest x ≥ 0 with cdf(x) ≥ p, to within 1e-9 relative (inf if none)."""
    if cdf(np.asarray([0.0]))[0] >= p:
        return 0.0
    hi = 1.0
    while cdf(np.asarray([hi]))[0] < p:
        hi *= 2
        if hi > 1e12:
            return math.inf
    lo = 0.0
    while hi - lo > 1e-9 * hi:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if cdf(np.asarray([mid]))[0] >= p else (mid, hi)
    return hi


def sum_bounds(components: Sequence[Cdf], q: float, grid: int = GRID) -> tuple[float, float]:
    """``(low, high)``: P(sum < low) ≤ 1 − q and P(sum > high) ≤ 1 − q for the sum of
    independent draws with these CDFs (see the module docstring; (0, 0) without any)."""
    if not components:
        return (0.0, 0.0)
    k = len(components)
    reach = sum(quantile(c, 1 - (1 - q) / k) for c in components)  # union bound on high
    low = _low_of(components, q, grid)
    if not math.isfinite(reach) or reach == 0:
        return (low, reach)
    h = reach / grid
    up = _convolved([np.diff(c(np.arange(-1, grid + 1) * h)) for c in components], grid)
    index = int(np.searchsorted(np.cumsum(up), q - 1e-12))
    return (low, min(reach, h * index))


def _low_of(components: Sequence[Cdf], q: float, grid: int) -> float:
    """The largest grid point L with P(sum rounded down < L) ≤ 1 − q. The grid reaches a
    point the sum stays under with probability ≥ 1 − q (union bound), so L lies on it."""
    k = len(components)
    reach = sum(quantile(c, 1 - q / k) for c in components)
    if not math.isfinite(reach) or reach == 0:
        return 0.0
    h = reach / grid
    eps = h * 1e-9
    down = _convolved([np.diff(c(np.arange(0, grid + 2) * h - eps)) for c in components], grid)
    below_j = np.concatenate([[0.0], np.cumsum(down)])  # P(sum' < j·h) for j = 0..grid+1
    ok = np.nonzero(below_j <= (1 - q) + 1e-12)[0]
    return h * float(min(ok[-1], grid))


def _convolved(pmfs: list[np.ndarray], grid: int) -> np.ndarray:
    """The pmf of the sum of grid-valued draws, kept on indices 0..grid (the rest is mass
    beyond the grid's end)."""
    out = np.clip(pmfs[0][:grid + 1], 0.0, None)
    for pmf in pmfs[1:]:
        out = np.convolve(out, np.clip(pmf[:grid + 1], 0.0, None))[:grid + 1]
    return out
