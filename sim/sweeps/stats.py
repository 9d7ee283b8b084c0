"""Statistics of a sweep: quantiles of each metric and the probability of meeting its target.

A run where a metric had to occur but did not (a fault never detected, a rollback that
never completed) counts as an infinitely bad value: it lowers the pass rate and pushes the
quantiles it reaches to ``inf``. Runs where the metric is not measured are left out.
The probability of meeting a target comes with a 95 % Wilson score interval.
Every function here is a pure function of its input, so the same runs in any order give
the same aggregates once sorted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

QUANTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0))
Z95 = 1.959963984540054  # two-sided 95 % normal quantile
CI_METHOD = "Wilson score interval, 95 %"


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion; (0, 1) when ``n`` is 0."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def quantile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The ``q``-th percentile (linear interpolation, numpy's default); nan when empty."""
    if len(values) == 0:
        return math.nan
    array = np.asarray(values, dtype=float)
    if np.isinf(array).any():
        return _quantile_with_inf(np.sort(array), q)
    return float(np.percentile(array, q))


def _quantile_with_inf(ordered: np.ndarray, q: float) -> float:
    # numpy interpolates inf - x into nan; the order statistic it would read is what matters
    pos = (len(ordered) - 1) * q / 100
    lo, hi = float(ordered[math.floor(pos)]), float(ordered[math.ceil(pos)])
    if math.isinf(hi):
        return math.inf
    return lo + (hi - lo) * (pos - math.floor(pos))


@dataclass(frozen=True)
class MetricAggregate:
    """One metric over a set of runs."""

    runs: int  # runs where the metric is judged (pass or fail)
    measured: int  # of those, runs with a value
    never: int  # runs where it had to occur and did not (counted as inf)
    p50: float
    p90: float
    p95: float
    max: float
    min: float
    passed: int
    pass_rate: float | None
    ci_low: float | None
    ci_high: float | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict: inf (a run that never got there) and nan become None."""
        return {k: _json_number(v) for k, v in self.__dict__.items()}


def aggregate(rows: Iterable[dict[str, Any]], metric: str) -> MetricAggregate:
    """Aggregate ``metric`` over run rows (each with ``metrics`` and ``status``)."""
    values: list[float] = []
    passed = never = 0
    for row in rows:
        status, value = row["status"][metric], row["metrics"][metric]
        if status == "not_measured":
            continue
        passed += status == "pass"
        if value is None:
            never += 1
        values.append(math.inf if value is None else float(value))
    return summarise(np.asarray(values, dtype=float), passed, never)


def summarise(values: np.ndarray, passed: int, never: int) -> MetricAggregate:
    """The aggregate of a metric's ``values`` in the runs where it is judged (inf: it
    never happened, ``never`` of them), ``passed`` of which met the target."""
    ordered = np.sort(values)
    n = len(ordered)
    q = {name: quantile(ordered, pct) for name, pct in QUANTILES}
    low, high = wilson(passed, n) if n else (None, None)
    return MetricAggregate(
        runs=n, measured=n - never, never=never, p50=q["p50"], p90=q["p90"], p95=q["p95"],
        max=float(ordered[-1]) if n else math.nan, min=float(ordered[0]) if n else math.nan,
        passed=passed, pass_rate=passed / n if n else None, ci_low=low, ci_high=high)


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return round(value, 6)
    return value


def from_json(value: Any) -> float:
    """A quantile read back from JSON: None (never reached, or no runs) is inf."""
    return math.inf if value is None else float(value)
