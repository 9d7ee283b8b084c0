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

Users whose browser still holds a persisted flag that renders the faulty page when the
run ends (posthog-js, ``sim.world.flag_client``) render it at their next load: those
drawn to visit between the run's end and the window's end are impacted too
(``mark_stale_after_run``), so the measure does not depend on the run's horizon.
"""

from __future__ import annotations

import math

import numpy as np

from sim.scenario.model import Scenario
from sim.world.page_loads import TrafficStats
from sim.world.population import Population
from sim.world.traffic import DAY


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
    active_later = _visit_drawn(scenario, population, rest_from, end, rng)
    stats.active_in_window = stats.active_in_incident | active_later


def mark_stale_after_run(scenario: Scenario, population: Population, stats: TrafficStats,
                         onset: float, run_end: float, pending: np.ndarray | None,
                         rng: np.random.Generator) -> None:
    """Set ``stats.stale_after_run``: of the users whose next load would still render the
    faulty page from their persisted flag when the run ended (``pending``), those drawn to
    visit before the window ends — each renders it once at that visit, so each is
    impacted (and active in the window). Drawn as ``mark_window`` draws, on its own
    stream; nothing when nobody is pending or the window ended with the run."""
    _, end = window_bounds(scenario, onset, stats)
    if pending is None or not pending.any() or end <= run_end:
        stats.stale_after_run = np.zeros(population.size, dtype=bool)
        return
    stats.stale_after_run = pending & _visit_drawn(scenario, population, run_end, end, rng)
    if stats.active_in_window is not None:
        stats.active_in_window |= stats.stale_after_run


def _visit_drawn(scenario: Scenario, population: Population, t0: float, t1: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Per user: drawn to make at least one visit in ``[t0, t1)`` (1 − exp(−Λ·wᵢ))."""
    weights = np.diff(population.activity_cdf, prepend=0.0)
    visits = expected_visits(scenario, population, t0, t1)
    return rng.random(population.size) < -np.expm1(-visits * weights)
