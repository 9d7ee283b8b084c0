"""Users' traffic to /contacts, one numpy step per tick.

Each tick draws the visits of the interval (Poisson, with a daily cycle), picks the
visitors by activity, gives each visit (one page load of the SPA) the variant its first
render shows (from the flags posthog-js persisted, ``sim.world.flag_client``) and the one
the fresh answer shows (``sim.world.served``), draws page views, errors and latency per
variant, marks who was served the faulty page (or, the app down, nothing), and hands
errors and sessions to the Sentry pipeline the way the SDK sends them. Cost is per
visit, never per user, and no HTTP is involved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from sim.scenario.faults import ErrorSpike
from sim.scenario.model import Scenario
from sim.scenario.traffic import Latency
from sim.world.faults import Hits
from sim.world.flag_eval import FlagEvaluator
from sim.world.page_loads import (
    SERIES,
    errored_visits,
    page_load_state,
    served_faulty,
    views_of_new,
)
from sim.world.population import Population
from sim.world.served import ServedState

DAY = 86400.0
_NORMAL = NormalDist()


@dataclass
class TickOutcome:
    """What one tick produced, for the Sentry pipeline."""

    t0: float
    release: str
    pageviews: int
    errored: int
    crashed: int
    fault_errors: int
    visits: int = 0
    failed_visits: int = 0
    errored_visits: int = 0  # page loads with at least one error (browser sessions errored)


class TrafficModel:
    """Draws each tick's traffic from the scenario's parameters and the served state."""

    def __init__(self, scenario: Scenario, population: Population,
                 rng: np.random.Generator, session_rng: np.random.Generator,
                 persisted_rng: np.random.Generator | None = None,
                 evaluator: FlagEvaluator | None = None) -> None:
        self.s = scenario
        self.pop = population
        self.rng = rng
        self.session_rng = session_rng  # which visits erred (browser sessions): its own stream
        self.base_rate = population.size * scenario.traffic.visits_per_user_per_day / DAY
        loads = page_load_state(population, scenario.flag.client,
                                math.ceil(scenario.horizon / scenario.tick), persisted_rng,
                                evaluator)
        self.stats, self.flags, self.stale = loads.stats, loads.flags, loads.stale
        self._row = 0

    def rate(self, t: float) -> float:
        """Visits per second at virtual time ``t`` (daily cosine around the peak hour)."""
        tr = self.s.traffic
        hour = (self.s.start.hour + self.s.start.minute / 60 + t / 3600.0) % 24
        phase = 2 * math.pi * (hour - tr.peak_hour_utc) / 24
        return self.base_rate * (1 + tr.daily_amplitude * math.cos(phase))

    def tick(self, t0: float, dt: float, state: ServedState, hits: Hits,
             incident_open: bool) -> TickOutcome:
        """Simulate the visits in ``[t0, t0 + dt)`` under ``state`` and the faults ``hits``.

        A visit is one page load of the SPA: its first page view shows what posthog-js
        answers first (``sim.world.flag_client``), its later page views the fresh answer.
        """
        visitors = self.pop.sample_visitors(self.rng, int(self.rng.poisson(self.rate(t0) * dt)))
        if state.build.down:  # nobody is served: page loads fail before the app runs
            if incident_open:
                self._mark_incident(t0, dt, visitors, None)
                self._mark_down(visitors)
            self._record(t0, state, False, 0, 0, (0, 0), (0, 0))
            return TickOutcome(t0, "", 0, 0, 0, 0, visitors.size, visitors.size)
        first, fresh = self.flags.page_loads(visitors, state)
        self.stale.loaded(visitors)
        views = 1 + self.rng.poisson(self.s.traffic.pageviews_per_visit - 1, size=visitors.size)
        later = views - 1
        self.stats.track_flips(visitors, first, fresh, later > 0)
        views_new = views_of_new(first, fresh, views)
        f_old, f_new = hits
        tr = self.s.traffic
        pv_new = int(views_new.sum())
        pv_old = int(views.sum()) - pv_new
        e_new = self._errors(pv_new, f_new.error_rate if f_new else tr.error_rate_new)
        e_old = self._errors(pv_old, f_old.error_rate if f_old else tr.error_rate_old)
        faulty = served_faulty(first, fresh, later > 0, f_new is not None, f_old is not None)
        stale = first != fresh
        self.stats.stale_loads += int(np.count_nonzero(stale))
        if incident_open:
            self._mark_incident(t0, dt, visitors, faulty)
        elif faulty is not None:  # after recovery: loads faulty only from stale flags
            self.stats.mark_stale_after_recovery(t0, visitors, faulty & stale)
        v_new = int(np.count_nonzero(first))
        self._record(t0, state, f_new is not None, visitors.size - v_new, v_new,
                     (pv_old, pv_new), (e_old, e_new), (f_old, f_new))
        fault_errors = (e_new if f_new else 0) + (e_old if f_old else 0)
        crashed = (e_new if f_new and f_new.crash else 0) + (e_old if f_old and f_old.crash else 0)
        failed = int(self.rng.binomial(visitors.size, min(1.0, (e_old + e_new) /
                                                          max(1, pv_old + pv_new))))
        errored = errored_visits(self.session_rng, views_new, views - views_new, e_new, e_old) \
            if self.s.monitoring.sdk == "browser" else 0
        return TickOutcome(t0, state.build.version, pv_old + pv_new, e_old + e_new - crashed,
                           crashed, fault_errors, visitors.size, failed, errored)

    def stale_faulty_users(self, state: ServedState, hits: Hits) -> np.ndarray | None:
        """Per user: would their next page load render the faulty page from the flags
        their browser persisted, though the fresh answer no longer serves it (None: nobody
        can). Computed over the population once per (state, faults) and kept up to date as
        visitors persist the fresh answer (``tick``); read it, do not keep it."""
        return self.stale.users(state, hits.new is not None, hits.old is not None)

    def _errors(self, pageviews: int, rate: float) -> int:
        return int(self.rng.binomial(pageviews, rate)) if pageviews else 0

    def _mark_incident(self, t0: float, dt: float, visitors: np.ndarray,
                       faulty: np.ndarray | None) -> None:
        """The tick's visitors during the incident: active, and who got the faulty page."""
        self.stats.marked_until = t0 + dt
        self.stats.mark_faulty(t0, visitors, faulty)

    def _mark_down(self, visitors: np.ndarray) -> None:
        """Visitors who got nothing: the app was down (stopped, or no healthy container)."""
        assert self.stats.served_down is not None
        self.stats.served_down[visitors] = True
        self.stats.down_visits += int(visitors.size)

    def _record(self, t0: float, state: ServedState, faulty: bool, v_old: int, v_new: int,
                pageviews: tuple[int, int], errors: tuple[int, int],
                faults: tuple[ErrorSpike | None, ErrorSpike | None] = (None, None)) -> None:
        if self._row >= self.stats.ticks:
            return
        row, tr, series = self._row, self.s.traffic, self.stats.series
        lat_old, lat_new = (_slowed(tr.latency_old, faults[0]), _slowed(tr.latency_new, faults[1]))
        values = (t0, v_old, v_new, pageviews[0], pageviews[1], errors[0], errors[1],
                  self._p95(pageviews[0], lat_old), self._p95(pageviews[1], lat_new),
                  100 * state.exposure, 100 * state.exposure if faulty else 0.0)
        for name, value in zip(("t", *SERIES), values, strict=True):
            series[name][row] = value
        self._row += 1

    def _p95(self, n: int, latency: Latency) -> float:
        """Sample p95 of ``n`` lognormal page loads, drawn as an order statistic (O(1))."""
        if n == 0:
            return math.nan
        k = max(1, math.ceil(0.95 * n))
        u = float(self.rng.beta(k, n + 1 - k))
        return latency.median_ms * math.exp(latency.sigma * _NORMAL.inv_cdf(min(max(u, 1e-12),
                                                                                1 - 1e-12)))


def _slowed(latency: Latency, fault: ErrorSpike | None) -> Latency:
    """The page-load distribution under ``fault`` (a slower median when it says so)."""
    if fault is None or fault.latency_median_ms is None:
        return latency
    return Latency(median_ms=fault.latency_median_ms, sigma=latency.sigma)
