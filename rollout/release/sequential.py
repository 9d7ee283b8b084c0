"""Repeated looks at an A/B test without inflating false positives: alpha spending.

Testing at a fixed α = 0.05 on every daily look inflates the false-positive rate (about
20 % over two weeks of daily looks; ``bench/bench_aa.py`` measures it). A group-sequential
test spends α over the looks instead. The spending function is Lan–DeMets' of
O'Brien–Fleming type::

    α(t) = 2 − 2 Φ(z_{α/2} / √t),    t = information fraction, 0 < t ≤ 1

α(t) is what may have been spent by fraction t; α(1) = α, so all of α is spent exactly at
the final look. Look k may spend α(t_k) − α(t_{k−1}); very little early (by t = 1/14,
2e-13 of α = 0.05; by t = 1/2, 0.0056), most near the end, so the final boundary is close
to the fixed-sample one. Its boundary c_k (|Z_k| ≥ c_k rejects) is computed in one of two ways:

- ``EXACT`` (default): the Armitage–McPherson–Rowe recursion. Under H0 the score is
  Brownian motion in the information, Z_k = S(t_k)/√t_k, and the density of Z_k over the
  paths that have not crossed yet is carried from look to look by numerical integration
  (Simpson's rule on a grid, numpy); c_k solves P(first crossing at look k) =
  α(t_k) − α(t_{k−1}). The first-crossing probabilities add up to α(t_k): the
  false-positive rate is α, not less. Checked against R's ldbounds (to 1e-4) and by
  Monte Carlo; the grid is capped at 1,801 points, which keeps even hourly looks over two
  weeks (336) at their α (about 6 s to compute).
- ``BONFERRONI``: c_k = z_{(α(t_k) − α(t_{k−1}))/2}, ignoring how the looks correlate.
  Valid by the union bound, conservative: false-positive rate and power below EXACT.

Boundaries depend on the fractions seen so far only (the Lan–DeMets property): looks need
not be equally spaced, and a look whose fraction does not grow spends nothing (c = inf).

The distribution functions every test of ``rollout.release.abtest`` rests on live here too, with
numpy and the standard library only (scipy is not a runtime dependency): the normal
(erfc-based, accurate far into the tails where the early boundaries are; the quantile is
the standard library's AS 241), Student's t with fractional df (the regularized
incomplete beta function by Lentz's continued fraction, the log-gamma ratio by Stirling's
series where two large lgammas would cancel) and χ² with one degree of freedom. The
array forms serve simulations of many seeds at once.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

_STANDARD = NormalDist()
_SQRT2 = math.sqrt(2.0)
_erfc = np.frompyfunc(math.erfc, 1, 1)  # numpy has no erfc; the tails need it, not 1 - erf

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


# --- the normal distribution ---------------------------------------------------------


def norm_cdf(x: float) -> float:
    """Φ(x), accurate in the lower tail."""
    return 0.5 * math.erfc(-x / _SQRT2)


def norm_sf(x: float) -> float:
    """1 − Φ(x), accurate in the upper tail."""
    return 0.5 * math.erfc(x / _SQRT2)


def norm_sf_array(x: np.ndarray) -> np.ndarray:
    """1 − Φ(x) elementwise, accurate in the upper tail."""
    return np.asarray(0.5 * _erfc(np.asarray(x, dtype=float) / _SQRT2), dtype=float)


def norm_ppf(p: float) -> float:
    """Φ⁻¹(p) (Wichura's AS 241, via the standard library); raises ValueError outside (0, 1)."""
    return _STANDARD.inv_cdf(p)


def norm_isf(q: float) -> float:
    """The upper-tail quantile Φ⁻¹(1 − q), without losing a small q to 1 − q."""
    return -_STANDARD.inv_cdf(q)


def norm_pdf_array(x: np.ndarray) -> np.ndarray:
    """φ(x) elementwise."""
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


# --- Student's t and χ² ----------------------------------------------------------------

_CF_EPS = 1e-16
_CF_TINY = 1e-300
_CF_MAX_ITERATIONS = 100_000
_LOG_SQRT_PI = 0.5 * math.log(math.pi)
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _stirling_tail(z: float | np.ndarray) -> float | np.ndarray:
    return 1 / (12 * z) - 1 / (360 * z**3) + 1 / (1260 * z**5) - 1 / (1680 * z**7)


def _log_gamma_ratio(a: float | np.ndarray) -> float | np.ndarray:
    """ln Γ(a + ½) − ln Γ(a), without the cancellation of two large lgammas."""
    series = (a * np.log1p(0.5 / a) + 0.5 * np.log(a) - 0.5
              + _stirling_tail(a + 0.5) - _stirling_tail(a))
    if np.ndim(a) == 0:
        return math.lgamma(a + 0.5) - math.lgamma(a) if a < 50 else float(series)
    small = np.asarray(_lgamma(a + 0.5) - _lgamma(a), dtype=float)
    return np.where(a < 50, small, series)


def _continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's continued fraction for I_x(a, b) (Numerical Recipes' betacf), one value."""
    def nonzero(v: float) -> float:
        return v if abs(v) > _CF_TINY else _CF_TINY

    c, d = 1.0, 1.0 / nonzero(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, _CF_MAX_ITERATIONS):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 / nonzero(1.0 + aa * d)
            c = nonzero(1.0 + aa / c)
            h *= d * c
        if abs(d * c - 1.0) < _CF_EPS:
            break
    return h


def _continued_fraction_array(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``_continued_fraction`` elementwise; each element stops when it has converged."""
    def nonzero(v: np.ndarray) -> np.ndarray:
        return np.where(np.abs(v) > _CF_TINY, v, _CF_TINY)

    c, d = np.ones_like(x), 1.0 / nonzero(1.0 - (a + b) * x / (a + 1.0))
    h, active = d.copy(), np.ones(x.shape, dtype=bool)
    for m in range(1, _CF_MAX_ITERATIONS):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 / nonzero(1.0 + aa * d)
            c = nonzero(1.0 + aa / c)
            h = np.where(active, h * d * c, h)
        active &= np.abs(d * c - 1.0) >= _CF_EPS
        if not active.any():
            break
    return h


def t_two_sided_p(t: ArrayLike, df: ArrayLike) -> float | np.ndarray:
    """2·P(T_df ≥ |t|) for Student's t, elementwise over arrays; accurate far into the tail.

    It is I_x(df/2, ½) with x = df/(df + t²), the regularized incomplete beta function,
    evaluated by the continued fraction on whichever side converges.
    """
    if np.ndim(t) == 0 and np.ndim(df) == 0:
        return _t_p_scalar(abs(float(t)), float(df))  # type: ignore[arg-type]
    tt, nu = np.broadcast_arrays(np.abs(np.asarray(t, float)), np.asarray(df, float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t2 = tt * tt
        a, x, y = nu / 2, nu / (nu + t2), t2 / (nu + t2)
        log_front = (_log_gamma_ratio(a) - _LOG_SQRT_PI - a * np.log1p(t2 / nu)
                     + 0.5 * np.log(y))
        direct = x < (a + 1) / (a + 2.5)
        half = np.full_like(x, 0.5)
        cf = _continued_fraction_array(np.where(direct, a, half), np.where(direct, half, a),
                                       np.where(direct, x, y))
        front = np.exp(log_front)
        p = np.where(direct, front * cf / a, 1.0 - front * cf / 0.5)
    return np.where(tt == 0, 1.0, np.where(np.isinf(t2), 0.0, p))


def _t_p_scalar(t: float, df: float) -> float:
    if t == 0.0:
        return 1.0
    t2 = t * t
    if not math.isfinite(t2):
        return 0.0
    a, x, y = df / 2, df / (df + t2), t2 / (df + t2)
    front = math.exp(float(_log_gamma_ratio(a)) - _LOG_SQRT_PI - a * math.log1p(t2 / df)
                     + 0.5 * math.log(y))
    if x < (a + 1) / (a + 2.5):
        return front * _continued_fraction(a, 0.5, x) / a
    return 1.0 - front * _continued_fraction(0.5, a, y) / 0.5


def _t_pdf(t: float, df: float) -> float:
    a = df / 2
    return math.exp(float(_log_gamma_ratio(a)) - 0.5 * math.log(df * math.pi)
                    - (a + 0.5) * math.log1p(t * t / df))


def t_isf(q: float, df: float) -> float:
    """The t with P(T_df ≥ t) = q, for 0 < q < 1: Newton on ln P from the Cornish–Fisher
    start, kept inside a bracket that doubles until it holds the root."""
    if q > 0.5:
        return -t_isf(1.0 - q, df)
    if q == 0.5:
        return 0.0
    lo, hi, t = 0.0, math.inf, _cornish_fisher(norm_isf(q), df)
    for _ in range(200):
        sf = _t_p_scalar(t, df) / 2
        lo, hi = (t, hi) if sf > q else (lo, t)
        new = t + (math.log(sf) - math.log(q)) * sf / _t_pdf(t, df) if sf > 0 else lo
        if not lo < new < hi:
            new = 2.0 * lo if math.isinf(hi) else 0.5 * (lo + hi)
        if abs(new - t) <= 1e-14 * t:
            return new
        t = new
    return t


def _cornish_fisher(z: float, df: float) -> float:
    """The t quantile's expansion in 1/df around the normal one (A&S 26.7.5)."""
    if df < 10:
        return max(z, 1.0)
    z2 = z * z
    g = (z * (z2 + 1) / 4, z * ((5 * z2 + 16) * z2 + 3) / 96,
         z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / 384,
         z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) / 92160)
    return z + sum(gk / df ** (k + 1) for k, gk in enumerate(g))


def chi2_sf_1dof(x: float) -> float:
    """P(χ²₁ ≥ x) = erfc(√(x/2))."""
    return math.erfc(math.sqrt(x / 2.0)) if x > 0 else 1.0


# --- spending and boundaries ----------------------------------------------------------


def obrien_fleming(t: float, alpha: float) -> float:
    """α(t) = 2 − 2Φ(z_{α/2}/√t): 0 at t ≤ 0, exactly α at t ≥ 1."""
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return alpha
    return 2.0 * norm_sf(norm_isf(alpha / 2.0) / math.sqrt(t))


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
        zs = [norm_isf(a / 2.0) if a > 0.0 else math.inf for a in shares]
    else:
        zs = _exact_boundaries(list(ts), shares)
    return tuple(Boundary(k + 1, t, s, a, z, 2.0 * norm_sf(z))
                 for k, (t, s, a, z) in enumerate(zip(ts, spent, shares, zs, strict=True)))


def _exact_boundaries(ts: list[float], shares: list[float]) -> list[float]:
    """c_k for each look by the Armitage–McPherson–Rowe recursion; inf where a_k is 0."""
    spending = [k for k, a in enumerate(shares) if a > 0.0]  # a look that spends nothing
    step = _grid_step([ts[k] for k in spending])  # ... is no look: skipping it is exact
    zs = [math.inf] * len(ts)
    state: _Continuation | None = None
    for k in spending:
        if state is None:
            zs[k] = norm_isf(shares[k] / 2.0)
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
            density = norm_pdf_array(z)
        else:
            scale = math.sqrt(t - prev.t)
            arg = (z[:, None] * math.sqrt(t) - prev.z[None, :] * math.sqrt(prev.t)) / scale
            density = norm_pdf_array(arg) @ prev.mass * (math.sqrt(t) / scale)
        return _Continuation(t, z, weights * density)

    def crossing(self, t: float, c: float) -> tuple[float, float]:
        """P(|Z_t| ≥ c and no earlier crossing), and its derivative in c."""
        scale = math.sqrt(t - self.t)
        drift = self.z * math.sqrt(self.t)
        upper, lower = (c * math.sqrt(t) - drift) / scale, (c * math.sqrt(t) + drift) / scale
        p = float(self.mass @ (norm_sf_array(upper) + norm_sf_array(lower)))
        dp = -float(self.mass @ (norm_pdf_array(upper) + norm_pdf_array(lower)))
        return p, dp * math.sqrt(t) / scale

    def boundary_for(self, t: float, share: float) -> float:
        """The c with crossing(t, c) = share: Newton on log P, kept inside a bracket."""
        lo, hi = 0.0, norm_isf(share / 2.0)  # the marginal bound: P(|Z_t| >= hi) = share
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
