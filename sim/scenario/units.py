"""Durations and distributions as scenario files write them.

A duration is a number of seconds or a string such as ``"90s"``, ``"5m"``, ``"1h30m"``
or ``"2d"``; a distribution is a duration (fixed) or a mapping naming its ``dist``.
Both parse into plain values before the engine sees them.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.scenario.limits import MAX_SIGMA

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a ``"1h30m"``-style string.

    Raises ValueError (pydantic reports it against the field) on anything else or on a
    negative value.
    """
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '90s', '5m', '2h'")
    if isinstance(value, int | float):
        seconds = _float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value.strip())
    else:
        raise ValueError("a duration is a number of seconds or a string like '90s', '5m', '2h'")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be >= 0 seconds (got {value!r})")
    return seconds


def _float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an int past float's range (1.8e308)
        raise ValueError("a duration must be a finite number of seconds (got an integer "
                         "past 1.8e308)") from None


def _parse_duration_text(text: str) -> float:
    if text.startswith("-"):
        raise ValueError(f"a duration must be >= 0 seconds (got {text!r})")
    try:
        return float(text)
    except ValueError:
        pass
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration; write seconds or e.g. "
                         "'500ms', '90s', '5m', '1h30m', '2d'")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Frozen(BaseModel):
    # allow_inf_nan=False: an infinite or NaN number is refused wherever a float is read
    # (a sigma of .inf once made a 0 s decision and a PASS).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DistSpec(_Frozen):
    """A distribution of durations: fixed, lognormal, uniform or exponential (seconds)."""

    dist: Literal["fixed", "lognormal", "uniform", "exponential"]
    value: Duration | None = None
    median: Duration | None = None
    sigma: float | None = Field(default=None, ge=0, le=MAX_SIGMA)
    low: Duration | None = None
    high: Duration | None = None
    mean: Duration | None = None
    max: Duration | None = None

    @model_validator(mode="after")
    def _check_parameters(self) -> DistSpec:
        needed = {"fixed": ("value",), "lognormal": ("median", "sigma"),
                  "uniform": ("low", "high"), "exponential": ("mean",)}[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"dist {self.dist!r} needs {', '.join(needed)}")
        if self.dist == "uniform" and self.low is not None and self.high is not None \
                and self.low > self.high:
            raise ValueError("uniform needs low <= high")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        """One draw in seconds, clipped at ``max`` when given."""
        value = _draw(self, rng)
        return min(value, self.max) if self.max is not None else value

    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value a draw can take (inf when unbounded)."""
        if self.dist == "fixed":
            return (self.value or 0.0, self.value or 0.0)
        if self.dist == "uniform":
            return (self.low or 0.0, min(self.high or 0.0, self.max or math.inf))
        return (0.0, self.max if self.max is not None else math.inf)

    def describe(self) -> str:
        if self.dist == "fixed":
            return f"{self.value:g} s"
        if self.dist == "lognormal":
            return f"lognormal(median {self.median:g} s, sigma {self.sigma:g})"
        if self.dist == "uniform":
            return f"uniform({self.low:g}–{self.high:g} s)"
        return f"exponential(mean {self.mean:g} s)"


def _draw(spec: DistSpec, rng: np.random.Generator) -> float:
    if spec.dist == "fixed":
        return float(spec.value or 0.0)
    if spec.dist == "lognormal":
        return float((spec.median or 0.0) * math.exp((spec.sigma or 0.0) * rng.standard_normal()))
    if spec.dist == "uniform":
        return float(rng.uniform(spec.low or 0.0, spec.high or 0.0))
    return float(rng.exponential(spec.mean or 0.0))


def _coerce_dist(value: Any) -> Any:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Dist = Annotated[DistSpec, BeforeValidator(_coerce_dist)]
