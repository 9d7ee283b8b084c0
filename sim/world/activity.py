"""Who uses the app over a window of time: the denominator of affected users.

The runbook's "percentage of users impacted" is a share of the users active over
``[onset, onset + traffic.affected_window)`` (default 24 h: the day from the onset),
extended to the end of the incident when it lasts longer. The part of the window the
ticks simulated during the incident is read off the traffic's per-user marks
(``TrafficStats.active_in_incident``: everyone who visited from the onset until
recovery). The rest of the window, from where the marks stop, is drawn from the same
traffic model's per-user rates, whatever the run's horizon: user ``i`` makes
Poisson(Λ·wᵢ) visits in it (Λ the integral of the daily-cycle visit rate, wᵢ the user's
share of visits), so is active with probability 1 − exp(−Λ·wᵢ). Visits in disjoint
intervals are independent, so the union is the window's active users in distribution,
and a run ended early (a sweep's) draws the same users as a full one. One numpy draw
per user, no loop.
"""

from __future__ import annotations

import math

import numpy as np

from sim.scenario.model import Scenario
from sim.world.population import Population
from sim.world.traffic import DAY, TrafficStats


def expected_visits(scenario: Scenario, population: Population, t0: float, t1: float) -> float:
    """Visits the whole population makes in ``[t0, t1)``: the integral of the traffic's
    daily-cosine rate (``TrafficModel.rate``) in closed form."""
    if t1 <= t0:
        return 0.0
    tr = scenario.traffic
    base = population.size * tr.visits_per_user_per_day / DAY
    hour0 = scenario.start.hour + scenario.start.minute / 60

    def phase(t: float) -> float:
        return 2 * math.pi * (hour0 + t / 3600.0 - tr.peak_hour_utc) / 24

    swing = tr.daily_amplitude * DAY / (2 * math.pi) * (math.sin(phase(t1)) - math.sin(phase(t0)))
    return base * ((t1 - t0) + swing)


def window_bounds(scenario: Scenario, onset: float, stats: TrafficStats) -> tuple[float, float]:
    """``(start, end)`` of the affected-users window: from the onset for
    ``traffic.affected_window``, or to where the incident's marks end if later."""
    end = onset + scenario.traffic.affected_window
    return onset, max(end, stats.marked_until or onset)


def mark_window(scenario: Scenario, population: Population, stats: TrafficStats,
                onset: float, rng: np.random.Generator) -> None:
    """Set ``stats.active_in_window``: the users marked during the incident, plus those
    drawn active over the rest of the window (see the module docstring)."""
    assert stats.active_in_incident is not None
    _, end = window_bounds(scenario, onset, stats)
    rest_from = stats.marked_until if stats.marked_until is not None else onset
    weights = np.diff(population.activity_cdf, prepend=0.0)
    visits = expected_visits(scenario, population, rest_from, end)
    active_later = rng.random(population.size) < -np.expm1(-visits * weights)
    stats.active_in_window = stats.active_in_incident | active_later
