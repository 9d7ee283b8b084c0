"""Repeated looks at an A/B test without inflating false positives: alpha spending.

Testing at a fixed α = 0.05 on every daily look inflates the false-positive rate (about
20 % over two weeks of daily looks; ``bench/bench_aa.py`` measures it). A group-sequential
test spends α over the looks instead. The spending function is Lan–DeMets' of
O'Brien–Fleming type, spent per side as gsDesign, rpact and ldbounds do for a two-sided
test: each side spends α/2 with the one-sided form, so the two-sided total spent by
information fraction t is::

    α(t) = 2 · (2 − 2 Φ(z_{α/4} / √t)),    t = information fraction, 0 < t ≤ 1

(``SpendingConvention.PER_SIDE``, the default). ``POOLED`` applies the one-sided form to
the total two-sided α, α(t) = 2 − 2 Φ(z_{α/2} / √t): the same α at t = 1 but more of it
spent early (K = 5 equal looks, α = 0.05: 4.383, 3.100, 2.553, 2.254, 2.064 against the
per-side 4.877, 3.357, 2.680, 2.290, 2.031). α(1) = α either way, so all of α is spent
exactly at the final look; very little early, most near the end, so the final boundary is
close to the fixed-sample one. Its boundary c_k (|Z_k| ≥ c_k rejects) is computed in one
of two ways:

- ``EXACT`` (default): the Armitage–McPherson–Rowe recursion. Under H0 the score is
  Brownian motion in the information, Z_k = S(t_k)/√t_k, and the density of Z_k over the
  paths that have not crossed yet is carried from look to look by numerical integration
  (Simpson's rule on a grid, numpy); c_k solves P(first crossing at look k) =
  α(t_k) − α(t_{k−1}). The first-crossing probabilities add up to α(t_k): the
  false-positive rate is α, not less. The default reproduces the published ldbounds /
  gsDesign boundaries for K = 5 equal looks to 2e-4 and crosses with the spent
  probabilities by Monte Carlo (tests/rollout/test_abtest_sequential.py); the grid is
  capped at 1,801 points, which keeps even hourly looks over two weeks (336) at their α
  (about 6 s to compute).
- ``BONFERRONI``: c_k = z_{(α(t_k) − α(t_{k−1}))/2}, ignoring how the looks correlate.
  Valid by the union bound, conservative: false-positive rate and power below EXACT.

Boundaries depend on the fractions seen so far only (the Lan–DeMets property): looks need
not be equally spaced, and a look whose fraction does not grow spends nothing (c = inf).

The normal distribution is scipy's (``scipy.stats.norm``, accurate far into the tails
where the early boundaries are); only what no maintained library provides, the boundary
recursion, is written here.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import stats

_Z_RANGE = 9.0  # |Z| beyond 9 carries < 1e-18 of mass: the grid stops there
_MAX_STEP = 0.05  # grid spacing cap, in units of Z
_MIN_STEP = 0.01  # and floor: at most 1,801 points, so hourly looks stay cheap
_STEPS_PER_SD = 12  # grid points per standard deviation of the narrowest look-to-look kernel


class BoundaryMethod(StrEnum):
    """How a look's share of α becomes its critical value."""

    EXACT = "exact"
    BONFERRONI = "bonferroni"


METHOD_TEXT = {
    BoundaryMethod.EXACT: "exact group-sequential boundaries (Armitage–McPherson–Rowe "
                          "recursion)",
    BoundaryMethod.BONFERRONI: "Bonferroni split of each look's α increment (union bound, "
                               "conservative)",
}


@dataclass(frozen=True)
class Boundary:
    """The critical value of one look of a two-sided group-sequential test."""

    look: int  # 1-based
    fraction: float  # information fraction t_k, capped at 1
    alpha_spent: float  # α(t_k): spent by this look, cumulative
    alpha_look: float  # α(t_k) − α(t_{k−1}): this look's share
    z: float  # |Z| ≥ z rejects; inf when the look spends nothing
    nominal_p: float  # the same boundary as a two-sided p-value threshold: 2 Φ(−z)


# --- spending and boundaries ----------------------------------------------------------


def obrien_fleming(t: float, alpha: float) -> float:
    """The two-sided α spent by ``t``, each side spending α/2 with the O'Brien–Fleming
    form: 2 · (2 − 2Φ(z_{α/4}/√t)); 0 at t ≤ 0, exactly α at t ≥ 1."""
    return 2.0 * obrien_fleming_pooled(t, alpha / 2.0)


def obrien_fleming_pooled(t: float, alpha: float) -> float:
    """The one-sided O'Brien–Fleming form applied to all of ``alpha``:
    2 − 2Φ(z_{α/2}/√t); 0 at t ≤ 0, exactly α at t ≥ 1."""
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return alpha
    return 2.0 * float(stats.norm.sf(stats.norm.isf(alpha / 2.0) / math.sqrt(t)))


class SpendingConvention(StrEnum):
    """How a two-sided α is spent: per side (gsDesign, rpact, ldbounds) or pooled."""

    PER_SIDE = "per-side"
    POOLED = "pooled"


SPENDING: dict[SpendingConvention, Callable[[float, float], float]] = {
    SpendingConvention.PER_SIDE: obrien_fleming,
    SpendingConvention.POOLED: obrien_fleming_pooled,
}


Spending = Callable[[float, float], float]
"""α(t) given (t, α): non-decreasing in t, 0 at t = 0, α at t = 1."""


def boundaries(fractions: Sequence[float], alpha: float,
               method: BoundaryMethod = BoundaryMethod.EXACT,
               spending: Spending = obrien_fleming) -> tuple[Boundary, ...]:
    """The boundary of each look, given the information fractions observed so far.

    Fractions above 1 count as 1. Raises ValueError unless 0 < alpha < 1 and the fractions
    are finite, non-negative and non-decreasing.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    ts = [min(float(t), 1.0) for t in fractions]
    if any(not math.isfinite(t) or t < 0.0 for t in ts):
        raise ValueError(f"information fractions must be finite and >= 0, got {list(fractions)}")
    if any(b < a for a, b in itertools.pairwise(ts)):
        raise ValueError(f"information fractions must not decrease, got {list(fractions)}")
    return _boundaries(tuple(ts), alpha, method, spending)


@functools.lru_cache(maxsize=256)  # a gate re-evaluates every look at every call
def _boundaries(ts: tuple[float, ...], alpha: float, method: BoundaryMethod,
                spending: Spending) -> tuple[Boundary, ...]:
    spent = [spending(t, alpha) for t in ts]
    shares = [s - p for s, p in zip(spent, [0.0, *spent[:-1]], strict=True)]
    if method is BoundaryMethod.BONFERRONI:
        zs = [float(stats.norm.isf(a / 2.0)) if a > 0.0 else math.inf for a in shares]
    else:
        zs = _exact_boundaries(list(ts), shares)
    return tuple(Boundary(k + 1, t, s, a, z, 2.0 * float(stats.norm.sf(z)))
                 for k, (t, s, a, z) in enumerate(zip(ts, spent, shares, zs, strict=True)))


def _exact_boundaries(ts: list[float], shares: list[float]) -> list[float]:
    """c_k for each look by the Armitage–McPherson–Rowe recursion; inf where a_k is 0."""
    spending = [k for k, a in enumerate(shares) if a > 0.0]  # a look that spends nothing
    step = _grid_step([ts[k] for k in spending])  # ... is no look: skipping it is exact
    zs = [math.inf] * len(ts)
    state: _Continuation | None = None
    for k in spending:
        if state is None:
            zs[k] = float(stats.norm.isf(shares[k] / 2.0))
        else:
            zs[k] = state.boundary_for(ts[k], shares[k])
        state = _Continuation.after(state, ts[k], zs[k], step)
    return zs


def _grid_step(ts: list[float]) -> float:
    """A spacing fine enough for the narrowest look-to-look kernel (sd √Δ/√t_prev in Z)."""
    widths = [math.sqrt((b - a) / a) for a, b in itertools.pairwise(ts)]
    return max(_MIN_STEP, min([_MAX_STEP, *(w / _STEPS_PER_SD for w in widths)]))


@dataclass(frozen=True)
class _Continuation:
    """The sub-density of Z at fraction ``t`` over the paths that have not crossed yet.

    Stored on a Simpson grid over [−c, c] (clipped to ±9): ``mass`` holds weight × density,
    so an integral against g is ``mass @ g(z)``.
    """

    t: float
    z: np.ndarray
    mass: np.ndarray

    @staticmethod
    def after(prev: _Continuation | None, t: float, c: float, step: float) -> _Continuation:
        """The continuation density at look fraction ``t`` with boundary ``c``."""
        half = min(c, _Z_RANGE)
        intervals = 2 * max(1, math.ceil(half / step))
        z = np.linspace(-half, half, intervals + 1)
        weights = np.full(z.size, 2.0)
        weights[1::2] = 4.0
        weights[0] = weights[-1] = 1.0
        weights *= (z[1] - z[0]) / 3.0
        if prev is None:
            density = stats.norm.pdf(z)
        else:
            scale = math.sqrt(t - prev.t)
            arg = (z[:, None] * math.sqrt(t) - prev.z[None, :] * math.sqrt(prev.t)) / scale
            density = stats.norm.pdf(arg) @ prev.mass * (math.sqrt(t) / scale)
        return _Continuation(t, z, weights * density)

    def crossing(self, t: float, c: float) -> tuple[float, float]:
        """P(|Z_t| ≥ c and no earlier crossing), and its derivative in c."""
        scale = math.sqrt(t - self.t)
        drift = self.z * math.sqrt(self.t)
        upper, lower = (c * math.sqrt(t) - drift) / scale, (c * math.sqrt(t) + drift) / scale
        p = float(self.mass @ (stats.norm.sf(upper) + stats.norm.sf(lower)))
        dp = -float(self.mass @ (stats.norm.pdf(upper) + stats.norm.pdf(lower)))
        return p, dp * math.sqrt(t) / scale

    def boundary_for(self, t: float, share: float) -> float:
        """The c with crossing(t, c) = share: Newton on log P, kept inside a bracket."""
        # the marginal bound: P(|Z_t| >= hi) = share
        lo, hi = 0.0, float(stats.norm.isf(share / 2.0))
        while self.crossing(t, hi)[0] > share:  # only integration error could cause this
            lo, hi = hi, hi + 1.0
        c = hi
        for _ in range(100):
            p, dp = self.crossing(t, c)
            if p > share:
                lo = c
            else:
                hi = c
            new = c - (math.log(p) - math.log(share)) * p / dp if p > 0.0 and dp < 0.0 else lo
            if not lo < new < hi:
                new = 0.5 * (lo + hi)
            if abs(new - c) <= 1e-12 * max(1.0, c):
                return new
            c = new
        return c
