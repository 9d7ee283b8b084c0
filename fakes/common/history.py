"""A seeded past for the fakes: hundreds of builds or incidents drawn from known
distributions, so ``drill calibrate`` can be tested on a history whose parameters are
known (``fakes.vercel.history``, ``fakes.netlify.history``, ``fakes.pagerduty.history``).

Under ``drill serve`` a history is seeded over each fake's control plane, ``POST
/_fake/history`` (``history_request`` reads its body). A history is deterministic by
seed: one ``numpy.random.Generator`` per call, drawn in a fixed order (creation times,
then each item's durations), never a global generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

DAY = 86400.0


@dataclass(frozen=True)
class Lognormal:
    """A lognormal distribution of seconds: ``median`` and ``sigma`` (of the log)."""

    median: float
    sigma: float

    def draw(self, rng: np.random.Generator) -> float:
        return float(self.median * math.exp(self.sigma * rng.standard_normal()))


def creation_times(rng: np.random.Generator, count: int, days: float,
                   end: float) -> list[float]:
    """``count`` creation times spread uniformly over the ``days`` before ``end``
    (virtual seconds), oldest first."""
    times = np.sort(rng.uniform(end - days * DAY, end, size=count))
    return [float(t) for t in times]


def history_request(body: Any, *timings: str) -> dict[str, Any]:
    """The arguments of a ``POST /_fake/history`` body: ``seed``, ``count`` (1..10,000),
    ``days`` (default 90) and each of ``timings`` as ``{"median": s, "sigma": x}``
    (those not given are left to the seeding function's default). Raises ValueError
    naming the field."""
    if not isinstance(body, dict):
        raise ValueError("the body is a JSON object: {seed, count, days?, <timing>: "
                         "{median, sigma}}")
    seed, count, days = body.get("seed", 0), body.get("count"), body.get("days", 90.0)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError("seed: an integer >= 0")
    if not isinstance(count, int) or not 1 <= count <= 10_000:
        raise ValueError("count: an integer from 1 to 10000")
    if not isinstance(days, int | float) or not 0 < days <= 3650:
        raise ValueError("days: a number of days, more than 0 and at most 3650")
    out: dict[str, Any] = {"seed": seed, "count": count, "days": float(days)}
    for name in timings:
        if name in body:
            out[name] = _lognormal(body[name], name)
    return out


def _lognormal(value: Any, name: str) -> Lognormal:
    if not isinstance(value, dict) or not all(
            isinstance(value.get(k), int | float) and value[k] > 0 for k in ("median", "sigma")):
        raise ValueError(f"{name}: {{\"median\": seconds > 0, \"sigma\": > 0}}")
    return Lognormal(float(value["median"]), float(value["sigma"]))
