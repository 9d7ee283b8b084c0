"""Users' traffic during a gradual rollout, and where it lands: PostHog, Sentry, the series.

Each interval (a tick, or less when the team changed something in between) draws the
visits to /contacts with the daily cycle, gives each the variant its page load gets, and
per visit its page views, session duration, contacts viewed and actions completed (the
new page with the plan's true effects); per variant the errors (the scenario's rates, or a
fault's) and the page-load statistics (lognormal, drawn as sufficient statistics of the
log latencies: O(1) however many page loads). Vectorized with numpy, no HTTP.

Everything is recorded into the fakes as their SDKs would send it, and the gates read it
back from there: PostHog's event counters, plus ``AnalyticsStore`` beside them (the
per-variant and per-person aggregates PostHog's experiment queries compute from the
``$feature/contacts_redesign`` property), and Sentry's release-health sessions and error
events (the fault's own fingerprint, crashes as ``fatal``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fakes.posthog.backend import PostHogBackend
from fakes.sentry.backend import SentryBackend
from rollout.release.comparisons import Z95
from rollout.release.samples import Counts, Sample
from sim.scenario.faults import ErrorSpike
from sim.scenario.model import Scenario
from sim.scenario.rollout import RolloutPlan
from sim.scenario.traffic import Latency
from sim.world.population import Population
from sim.world.traffic import SERIES, TrafficStats

DAY = 86400.0
OLD, NEW = 0, 1
PAGES = ("ContactsPageOld", "ContactsPageNew")
BASELINE_ERROR = ("Error", "Failed to fetch", "src/api/client.ts")  # both pages share it


@dataclass
class _Row:
    t0: float
    t1: float
    pageviews: tuple[int, int]
    errors: tuple[int, int]
    latency: tuple[Sample, Sample]  # ln(seconds) per variant


@dataclass
class People:
    """Per-person sums since the experiment started (row i is user i)."""

    variant: np.ndarray  # int8: -1 not exposed, else the variant of the first exposure
    sessions: np.ndarray
    duration_s: np.ndarray
    contacts: np.ndarray
    actions: np.ndarray


class AnalyticsStore:
    """PostHog's aggregates of the Contacts page beside its event counters: per variant and
    interval, page views, ``$exception`` events and web-vitals statistics; per person,
    engagement sums since an experiment started."""

    def __init__(self, size: int) -> None:
        self.rows: list[_Row] = []
        self.people = self._empty(size)
        self.experiment_started: float | None = None

    @staticmethod
    def _empty(size: int) -> People:
        return People(np.full(size, -1, dtype=np.int8), np.zeros(size), np.zeros(size),
                      np.zeros(size), np.zeros(size))

    def record(self, row: _Row) -> None:
        self.rows.append(row)

    def window(self, variant: int, since: float, until: float) -> tuple[Counts, Sample]:
        """Page views with errors, and ln page-load statistics, of the intervals that lie in
        ``[since, until]``."""
        errors = views = 0
        latency = Sample(0)
        for row in self.rows:
            if row.t0 >= since and row.t1 <= until:
                views += row.pageviews[variant]
                errors += row.errors[variant]
                latency = latency.merge(row.latency[variant])
        return Counts(errors, views), latency

    def start_experiment(self, t: float) -> None:
        """Forget every person's sums: an experiment counts from ``t``."""
        self.people = self._empty(self.people.variant.size)
        self.experiment_started = t

    def record_people(self, users: np.ndarray, new: np.ndarray, duration: np.ndarray,
                      contacts: np.ndarray, actions: np.ndarray) -> None:
        p, n = self.people, self.people.variant.size
        first = users[p.variant[users] < 0]
        p.variant[first] = new[p.variant[users] < 0].astype(np.int8)
        p.sessions += np.bincount(users, minlength=n)
        p.duration_s += np.bincount(users, weights=duration, minlength=n)
        p.contacts += np.bincount(users, weights=contacts, minlength=n)
        p.actions += np.bincount(users, weights=actions, minlength=n)


@dataclass
class Draw:
    """One interval's traffic: who visited, with which page, and what it produced."""

    t0: float
    t1: float
    release: str
    visitors: np.ndarray
    new: np.ndarray
    pageviews: tuple[int, int]
    errors: tuple[int, int]
    crashed: int
    fault_errors: tuple[int, int]
    faults: tuple[ErrorSpike | None, ErrorSpike | None]
    latency: tuple[Sample, Sample]
    extra: dict[str, np.ndarray] = field(default_factory=dict)


class RolloutTraffic:
    """Draws each interval's traffic and records it into the fakes and the series."""

    def __init__(self, scenario: Scenario, plan: RolloutPlan, population: Population,
                 rng: np.random.Generator, rows: int) -> None:
        self.s, self.plan, self.pop, self.rng = scenario, plan, population, rng
        self.base_rate = population.size * scenario.traffic.visits_per_user_per_day / DAY
        self.stats = TrafficStats(rows)
        self.stats.active_in_incident = np.zeros(population.size, dtype=bool)
        self.stats.served_faulty = np.zeros(population.size, dtype=bool)
        if hasattr(self.stats, "last_variant"):  # who saw which page, as sim.world.traffic counts
            self.stats.last_variant = np.full(population.size, -1, dtype=np.int8)
            self.stats.flipped = np.zeros(population.size, dtype=bool)
        self.store = AnalyticsStore(population.size)
        self._row = 0
        self._pending: dict[str, Any] | None = None

    def rate(self, t: float) -> float:
        """Visits per second at ``t`` (daily cosine around the peak hour)."""
        tr = self.s.traffic
        hour = (self.s.start.hour + self.s.start.minute / 60 + t / 3600.0) % 24
        return self.base_rate * (1 + tr.daily_amplitude *
                                 math.cos(2 * math.pi * (hour - tr.peak_hour_utc) / 24))

    def draw(self, t0: float, t1: float, release: str, new_page: np.ndarray,
             faults: tuple[ErrorSpike | None, ErrorSpike | None]) -> Draw:
        """The visits of ``[t0, t1)`` under one served state; ``faults`` hit (old, new)."""
        rng, tr = self.rng, self.s.traffic
        mean = self.rate((t0 + t1) / 2) * (t1 - t0)
        visitors = self.pop.sample_visitors(rng, int(rng.poisson(mean)))
        new = new_page[visitors]
        views = 1 + rng.poisson(tr.pageviews_per_visit - 1, size=visitors.size)
        pv = (int(views[~new].sum()), int(views[new].sum()))
        rates = tuple(f.error_rate if f else base for f, base in
                      zip(faults, (tr.error_rate_old, tr.error_rate_new), strict=True))
        errors = tuple(int(rng.binomial(n, r)) if n else 0 for n, r in zip(pv, rates,
                                                                           strict=True))
        crashed = sum(e for e, f in zip(errors, faults, strict=True) if f and f.crash)
        fault_errors = tuple(e if f else 0 for e, f in zip(errors, faults, strict=True))
        latency = (self._latency(pv[OLD], tr.latency_old), self._latency(pv[NEW], tr.latency_new))
        draw = Draw(t0, t1, release, visitors, new, pv, (errors[0], errors[1]), crashed,
                    (fault_errors[0], fault_errors[1]), faults, latency)
        draw.extra = self._engagement(new)
        return draw

    def _engagement(self, new: np.ndarray) -> dict[str, np.ndarray]:
        e, fx, rng = self.plan.engagement, self.plan.effects, self.rng
        n = new.size
        duration = e.session_median_s * np.exp(e.session_sigma * rng.standard_normal(n))
        duration *= np.where(new, 1 + fx.session_duration_lift, 1.0)
        contacts = rng.poisson(np.where(new, e.contacts_viewed * (1 + fx.contacts_viewed_lift),
                                        e.contacts_viewed))
        actions = rng.poisson(np.where(new, fx.actions_completed, e.actions_completed))
        return {"duration": duration, "contacts": contacts.astype(float),
                "actions": actions.astype(float)}

    def _latency(self, n: int, latency: Latency) -> Sample:
        """Statistics of ``n`` ln page-load seconds: the mean is normal, (n−1)s²/σ² is χ²."""
        if n == 0:
            return Sample(0)
        mu, sigma = math.log(latency.median_ms / 1000.0), latency.sigma
        mean = mu + sigma / math.sqrt(n) * float(self.rng.standard_normal())
        var = sigma * sigma * float(self.rng.chisquare(n - 1)) / (n - 1) if n > 1 else 0.0
        return Sample(n, mean, var)

    # --- recording ---------------------------------------------------------------------

    def record(self, draw: Draw, posthog: PostHogBackend, sentry: SentryBackend,
               environment: str, exposure: float, faulty: bool) -> None:
        """Hand ``draw`` to PostHog, the store beside it, Sentry and the series."""
        d, at = draw, draw.t1
        for event, count in (("$pageview", sum(d.pageviews)), ("$exception", sum(d.errors)),
                             ("contact_viewed", int(d.extra["contacts"].sum())),
                             ("contact_action_completed", int(d.extra["actions"].sum()))):
            posthog.record_events(event, count, at=at)
        self.store.record(_Row(d.t0, d.t1, d.pageviews, d.errors, d.latency))
        if self.store.experiment_started is not None:
            self.store.record_people(d.visitors, d.new, d.extra["duration"],
                                     d.extra["contacts"], d.extra["actions"])
        self._sentry(d, sentry, environment)
        self._series(d, exposure, faulty)
        self._track_flips(d)

    def _track_flips(self, d: Draw) -> None:
        last, flipped = getattr(self.stats, "last_variant", None), \
            getattr(self.stats, "flipped", None)
        if last is None or flipped is None:
            return
        current = d.new.astype(np.int8)
        seen = last[d.visitors]
        flipped[d.visitors[(seen >= 0) & (seen != current)]] = True
        last[d.visitors] = current

    def _sentry(self, d: Draw, sentry: SentryBackend, environment: str) -> None:
        mid = (d.t0 + d.t1) / 2
        total, errors = sum(d.pageviews), sum(d.errors)
        sentry.record_session_aggregates(d.release, environment, mid, exited=total - errors,
                                         errored=errors - d.crashed, crashed=d.crashed)
        for variant in (OLD, NEW):
            fault, from_fault = d.faults[variant], d.fault_errors[variant]
            if fault is not None and from_fault:
                sentry.record_error_events(d.release, environment, mid, from_fault,
                                           exc_type=fault.exc_type, value=fault.message,
                                           culprit=PAGES[variant],
                                           level="fatal" if fault.crash else "error")
            baseline = d.errors[variant] - from_fault
            if baseline:
                sentry.record_error_events(d.release, environment, mid, baseline,
                                           exc_type=BASELINE_ERROR[0], value=BASELINE_ERROR[1],
                                           culprit=BASELINE_ERROR[2])

    def _series(self, d: Draw, exposure: float, faulty: bool) -> None:
        """Add ``d`` to the series row of its tick: intervals cut short by the team's reads
        and changes are summed into whole ticks, so every row spans one tick."""
        tick = self.s.tick
        row = math.floor(d.t0 / tick + 1e-9)
        if self._pending is not None and self._pending["row"] != row:
            self.close_series()
        if self._pending is None:
            self._pending = {"row": row, "visits": [0, 0], "views": [0, 0], "errors": [0, 0],
                             "latency": [Sample(0), Sample(0)], "faulty": False}
        p = self._pending
        for v in (OLD, NEW):
            p["visits"][v] += int((d.new == bool(v)).sum())
            p["views"][v] += d.pageviews[v]
            p["errors"][v] += d.errors[v]
            p["latency"][v] = p["latency"][v].merge(d.latency[v])
        p["exposure"], p["faulty"] = exposure, p["faulty"] or faulty

    def close_series(self) -> None:
        """Write the pending tick's row (at the end of the run, or when a new tick starts)."""
        p, self._pending = self._pending, None
        if p is None or self._row >= self.stats.ticks:
            return
        p95 = [math.exp(x.mean + Z95 * math.sqrt(x.variance)) * 1000 if x.n else math.nan
               for x in p["latency"]]
        values = (p["row"] * self.s.tick, *p["visits"], *p["views"], *p["errors"], *p95,
                  100 * p["exposure"], 100 * p["exposure"] if p["faulty"] else 0.0)
        for name, value in zip(("t", *SERIES), values, strict=True):
            self.stats.series[name][self._row] = value
        self._row += 1

    def mark_incident(self, d: Draw, faulty_variants: tuple[bool, bool]) -> None:
        """Users active during the incident, and those served the faulty page."""
        assert self.stats.active_in_incident is not None and self.stats.served_faulty is not None
        self.stats.active_in_incident[d.visitors] = True
        self.stats.marked_until = d.t1
        hit = np.where(d.new, faulty_variants[NEW], faulty_variants[OLD])
        if hit.any():
            self.stats.served_faulty[d.visitors[hit]] = True
            self.stats.faulty_pageviews += int(hit.sum())
            self.stats.last_faulty_at = d.t0
