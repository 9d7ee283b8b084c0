"""The data of one arm of the A/B test, and PostHog's minimum-sample rule.

``Sample`` holds the sufficient statistics of a continuous metric (n, mean, variance; from
per-user values, or from the logs of page-load seconds with ``Sample.of_logs``);
``Counts`` a binomial count (errors out of page loads); ``Arms`` one value per arm.
Bad input (negative counts, NaN values, events > trials) raises ValueError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike

T = TypeVar("T")
MIN_EXPECTED = 5.0  # PostHog: n·p > 5 and n·(1 − p) > 5


@dataclass(frozen=True)
class Sample:
    """Sufficient statistics of a continuous metric in one arm: n, mean, variance (ddof 1).

    Raises ValueError for a negative n or variance, or a non-finite mean or variance.
    """

    n: int
    mean: float = 0.0
    variance: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 0 or not math.isfinite(self.mean) or not math.isfinite(self.variance) \
                or self.variance < 0:
            raise ValueError(f"bad sample statistics: {self}")

    @classmethod
    def of(cls, values: ArrayLike) -> Sample:
        """From per-user values; raises ValueError on a non-finite value."""
        x = np.asarray(values, dtype=float).ravel()
        if not np.isfinite(x).all():
            raise ValueError("values must be finite")
        variance = float(x.var(ddof=1)) if x.size > 1 else 0.0
        return cls(int(x.size), float(x.mean()) if x.size else 0.0, variance)

    @classmethod
    def of_logs(cls, values: ArrayLike) -> Sample:
        """From positive values (page-load seconds), as statistics of their natural logs."""
        x = np.asarray(values, dtype=float).ravel()
        if not (np.isfinite(x) & (x > 0)).all():
            raise ValueError("values must be finite and > 0 to take their logs")
        return cls.of(np.log(x))

    def merge(self, other: Sample) -> Sample:
        """The statistics of both samples together (Chan's parallel formula)."""
        n = self.n + other.n
        if n == 0:
            return Sample(0)
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        squares = (self.variance * max(self.n - 1, 0) + other.variance * max(other.n - 1, 0)
                   + delta * delta * self.n * other.n / n)
        return Sample(n, mean, squares / (n - 1) if n > 1 else 0.0)


@dataclass(frozen=True)
class Counts:
    """A binomial count in one arm: ``events`` (errors) out of ``trials`` (page loads)."""

    events: int
    trials: int

    def __post_init__(self) -> None:
        if not 0 <= self.events <= self.trials:
            raise ValueError(f"need 0 <= events <= trials, got {self}")

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.events + other.events, self.trials + other.trials)


@dataclass(frozen=True)
class Arms(Generic[T]):
    """One value per arm: control (old page) and treatment (new page)."""

    control: T
    treatment: T


def min_sample_ok(trials: ArrayLike, rate: ArrayLike) -> bool | np.ndarray:
    """PostHog's minimum sample for a proportion: n·p > 5 and n·(1 − p) > 5."""
    n, p = np.asarray(trials, dtype=float), np.asarray(rate, dtype=float)
    ok = (n * p > MIN_EXPECTED) & (n * (1.0 - p) > MIN_EXPECTED)
    return bool(ok) if ok.ndim == 0 else ok
