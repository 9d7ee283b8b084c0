"""Fitting a sample of durations to a scenario distribution family (scipy).

``fit_sample`` returns the ``DistSpec`` mapping the scenario takes (lognormal ``median``
and ``sigma``, exponential ``mean``, uniform ``low``/``high``, or ``fixed``), the 95 %
confidence interval of each parameter, and the Kolmogorov–Smirnov statistic and p-value
of the sample against the fitted distribution. The fit's parameters come from the same
sample, so the KS p-value is optimistic (Lilliefors); it flags a family that does not
fit, it does not prove one that does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

FAMILIES = ("lognormal", "exponential", "uniform", "fixed")
LEVEL = 0.95


@dataclass(frozen=True)
class Fit:
    """A fitted distribution: its scenario mapping, intervals, n and goodness of fit."""

    family: str
    spec: dict[str, float | str]
    intervals: dict[str, tuple[float, float]]
    n: int
    ks_statistic: float | None  # None: no test was run (fixed, or a degenerate uniform)
    ks_pvalue: float | None

    def interval_text(self) -> str:
        """``median 87.1–92.3, sigma 0.28–0.32`` (95 % confidence intervals); ``""`` when
        the family has none (fixed, uniform: their values are the sample's own)."""
        return ", ".join(f"{k} {_g(lo)}–{_g(hi)}" for k, (lo, hi) in self.intervals.items())

    def goodness_text(self) -> str:
        """``KS D=0.041 p=0.683``, or what was not tested."""
        if self.ks_statistic is None or self.ks_pvalue is None:
            return "no goodness-of-fit test (a single value)"
        return f"KS D={self.ks_statistic:.3f} p={self.ks_pvalue:.3f}"


def fit_sample(values: list[float], family: str) -> Fit:
    """Fit ``values`` (seconds, > 0 for lognormal) to ``family``; raises ValueError on
    an unknown family or fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        raise ValueError("a fit needs at least 2 samples")
    fitters = {"lognormal": _lognormal, "exponential": _exponential,
               "uniform": _uniform, "fixed": _fixed}
    if family not in fitters:
        raise ValueError(f"unknown family {family!r}; allowed: {', '.join(FAMILIES)}")
    spec, intervals, cdf = fitters[family](x)
    ks = stats.kstest(x, cdf) if cdf is not None else None
    return Fit(family, spec, intervals, len(x),
               float(ks.statistic) if ks is not None else None,
               float(ks.pvalue) if ks is not None else None)


def _lognormal(x: np.ndarray) -> tuple[dict[str, float | str], dict[str, tuple[float, float]],
                                       object]:
    # Maximum likelihood with the location pinned at 0, as DistSpec's lognormal has it.
    sigma, _, median = stats.lognorm.fit(x, floc=0)
    logs = np.log(x)
    n, s = len(x), float(np.std(logs, ddof=1))
    t = float(stats.t.ppf((1 + LEVEL) / 2, n - 1))
    mu = float(np.mean(logs))
    chi_hi, chi_lo = (float(stats.chi2.ppf(q, n - 1)) for q in ((1 + LEVEL) / 2, (1 - LEVEL) / 2))
    half = t * s / math.sqrt(n)
    spread = (n - 1) * s * s
    intervals = {"median": (math.exp(mu - half), math.exp(mu + half)),
                 "sigma": (math.sqrt(spread / chi_hi), math.sqrt(spread / chi_lo))}
    spec: dict[str, float | str] = {"dist": "lognormal", "median": float(median),
                                    "sigma": float(sigma)}
    return spec, intervals, stats.lognorm(sigma, 0, median).cdf


def _exponential(x: np.ndarray) -> tuple[dict[str, float | str],
                                         dict[str, tuple[float, float]], object]:
    n, mean = len(x), float(np.mean(x))
    hi, lo = (float(stats.chi2.ppf(q, 2 * n)) for q in ((1 + LEVEL) / 2, (1 - LEVEL) / 2))
    spec: dict[str, float | str] = {"dist": "exponential", "mean": mean}
    return spec, {"mean": (2 * n * mean / hi, 2 * n * mean / lo)}, stats.expon(0, mean).cdf


def _uniform(x: np.ndarray) -> tuple[dict[str, float | str],
                                     dict[str, tuple[float, float]], object]:
    low, high = float(np.min(x)), float(np.max(x))
    spec: dict[str, float | str] = {"dist": "uniform", "low": low, "high": high}
    cdf = stats.uniform(low, high - low).cdf if high > low else None
    return spec, {}, cdf  # the sample's own extremes: no confidence interval is computed


def _fixed(x: np.ndarray) -> tuple[dict[str, float | str],
                                   dict[str, tuple[float, float]], object]:
    # the median, with no interval and no test: a fixed value has no spread to fit
    return {"dist": "fixed", "value": float(np.median(x))}, {}, None


def _g(value: float) -> str:
    return f"{value:.4g}"
