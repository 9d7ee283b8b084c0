"""Users' traffic during a gradual rollout, and where it lands: PostHog, Sentry, the series.

Each interval (a tick, or less when the team changed something in between) draws the
visits to /contacts with the daily cycle. A visit is one page load of the SPA, as in the
incident traffic (``sim.world.page_loads``): its first page view shows what posthog-js
answers first (``sim.world.flag_client``: the persisted flag under ``flag.client.reads:
render``, the fresh one under ``subscribe``), its later page views the fresh answer. Per
visit it draws the page views, session duration, contacts viewed and actions completed
(the plan's true effects, in proportion to the visit's page views of the new page: what
the user saw); per variant of the page views, the errors (the scenario's rates, or a
fault's) and the page-load statistics (lognormal, drawn as sufficient statistics of the
log latencies: O(1) however many page loads). Vectorized with numpy, no HTTP.

Attribution follows posthog-js (github:PostHog/posthog-js at 9b2a1b18,
``packages/browser/src/posthog-featureflags.ts``): every event carries
``$feature/contacts_redesign`` from the flags persisted at capture time
(``_rebuildEventProperties``), and the initial ``$pageview`` is captured 1 ms after init
(``posthog-core.ts``), before ``/flags`` answers, so each page view counts under the
variant it showed; a person's exposure is the ``$feature_flag_called`` event of their
first read (``$feature_flag_response``: the value the call returned), so ``People.variant``
is the variant of the first view of their first visit in the experiment. Their engagement
sums are theirs whatever they saw later.

Everything is recorded into the fakes as their SDKs would send it, and the gates read it
back from there: PostHog's event counters, plus ``AnalyticsStore`` beside them (the
per-variant and per-person aggregates PostHog's experiment queries compute from the
``$feature/contacts_redesign`` property), and Sentry's release-health sessions (per
``monitoring.sdk``, ``sim.world.monitoring.session_statuses``: @sentry/browser one per
visit, errored when a page view of it erred, never crashed; the server SDK one per page
view) and error events (the fault's own fingerprint, crashes as ``fatal``).
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
from sim.world.flag_eval import FlagEvaluator
from sim.world.monitoring import session_statuses
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

    def record_people(self, users: np.ndarray, exposed_new: np.ndarray, duration: np.ndarray,
                      contacts: np.ndarray, actions: np.ndarray) -> None:
        """Add each visit to its user's sums; a user not exposed yet is exposed to the
        variant ``exposed_new`` says (the visit's first view: ``$feature_flag_called``)."""
        p, n = self.people, self.people.variant.size
        first = users[p.variant[users] < 0]
        p.variant[first] = exposed_new[p.variant[users] < 0].astype(np.int8)
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
    first: np.ndarray  # per visit: does its first page view show the new page
    fresh: np.ndarray  # per visit: does the fresh answer (its later page views)
    views: np.ndarray  # per visit: page views
    pageviews: tuple[int, int]
    errors: tuple[int, int]
    crashed: int
    fault_errors: tuple[int, int]
    faults: tuple[ErrorSpike | None, ErrorSpike | None]
    latency: tuple[Sample, Sample]
    errored_visits: int = 0  # visits with an erring page view (browser sessions errored)
    extra: dict[str, np.ndarray] = field(default_factory=dict)


class RolloutTraffic:
    """Draws each interval's traffic and records it into the fakes and the series."""

    def __init__(self, scenario: Scenario, plan: RolloutPlan, population: Population,
                 rng: np.random.Generator, session_rng: np.random.Generator,
                 rows: int, persisted_rng: np.random.Generator | None = None,
                 evaluator: FlagEvaluator | None = None) -> None:
        self.s, self.plan, self.pop, self.rng = scenario, plan, population, rng
        self.session_rng = session_rng  # which visits erred (browser sessions): its own stream
        self.base_rate = population.size * scenario.traffic.visits_per_user_per_day / DAY
        loads = page_load_state(population, scenario.flag.client, rows, persisted_rng,
                                evaluator)
        self.stats, self.flags, self.stale = loads.stats, loads.flags, loads.stale
        self.store = AnalyticsStore(population.size)
        self._row = 0
        self._pending: dict[str, Any] | None = None

    def rate(self, t: float) -> float:
        """Visits per second at ``t`` (daily cosine around the peak hour)."""
        tr = self.s.traffic
        hour = (self.s.start.hour + self.s.start.minute / 60 + t / 3600.0) % 24
        return self.base_rate * (1 + tr.daily_amplitude *
                                 math.cos(2 * math.pi * (hour - tr.peak_hour_utc) / 24))

    def draw(self, t0: float, t1: float, release: str, state: ServedState,
             faults: tuple[ErrorSpike | None, ErrorSpike | None]) -> Draw:
        """The visits of ``[t0, t1)`` under one served state; ``faults`` hit (old, new).
        Each visit's page load persists the fresh flag answer (``FlagClients``)."""
        rng, tr = self.rng, self.s.traffic
        mean = self.rate((t0 + t1) / 2) * (t1 - t0)
        visitors = self.pop.sample_visitors(rng, int(rng.poisson(mean)))
        first, fresh = self.flags.page_loads(visitors, state)
        self.stale.loaded(visitors)
        views = 1 + rng.poisson(tr.pageviews_per_visit - 1, size=visitors.size)
        views_new = views_of_new(first, fresh, views)
        pv_new = int(views_new.sum())
        pv = (int(views.sum()) - pv_new, pv_new)
        rates = tuple(f.error_rate if f else base for f, base in
                      zip(faults, (tr.error_rate_old, tr.error_rate_new), strict=True))
        errors = tuple(int(rng.binomial(n, r)) if n else 0 for n, r in zip(pv, rates,
                                                                           strict=True))
        crashed = sum(e for e, f in zip(errors, faults, strict=True) if f and f.crash)
        fault_errors = tuple(e if f else 0 for e, f in zip(errors, faults, strict=True))
        latency = (self._latency(pv[OLD], tr.latency_old), self._latency(pv[NEW], tr.latency_new))
        draw = Draw(t0, t1, release, visitors, first, fresh, views, pv, (errors[0], errors[1]),
                    crashed, (fault_errors[0], fault_errors[1]), faults, latency)
        draw.extra = self._engagement(views_new / views)
        if self.s.monitoring.sdk == "browser":
            draw.errored_visits = errored_visits(self.session_rng, views_new, views - views_new,
                                                 errors[NEW], errors[OLD])
        return draw

    def _engagement(self, share_new: np.ndarray) -> dict[str, np.ndarray]:
        """Per visit: duration, contacts viewed and actions completed, the plan's effects
        weighted by the visit's share of page views on the new page (0 or 1 unless its
        first render was stale: exactly the unweighted effects then)."""
        e, fx, rng = self.plan.engagement, self.plan.effects, self.rng
        n = share_new.size
        duration = e.session_median_s * np.exp(e.session_sigma * rng.standard_normal(n))
        duration *= 1 + fx.session_duration_lift * share_new
        contacts = rng.poisson(e.contacts_viewed * (1 + fx.contacts_viewed_lift * share_new))
        actions = rng.poisson((1 - share_new) * e.actions_completed
                              + share_new * fx.actions_completed)
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
            self.store.record_people(d.visitors, d.first, d.extra["duration"],
                                     d.extra["contacts"], d.extra["actions"])
        self._sentry(d, sentry, environment)
        self._series(d, exposure, faulty)
        self.stats.track_flips(d.visitors, d.first, d.fresh, d.views > 1)
        self.stats.stale_loads += int((d.first != d.fresh).sum())

    # A crash fault's errors are unhandled: caught by the SDK's global handler, at level
    # "error" with ``mechanism.handled: false`` — @sentry/browser's (recorded in
    # tests/fakes/browser/test_browser_sdks.py) and sentry-python's excepthook alike; no SDK
    # sends them "fatal". Sentry's issue search finds them by ``error.unhandled:true``.
    def _sentry(self, d: Draw, sentry: SentryBackend, environment: str) -> None:
        """Sessions as ``monitoring.sdk`` sends them, and the error events by fingerprint."""
        mid, sdk = (d.t0 + d.t1) / 2, self.s.monitoring.sdk
        exited, errored, crashed = session_statuses(
            sdk, d.visitors.size, d.errored_visits, sum(d.pageviews), sum(d.errors) - d.crashed,
            d.crashed)
        if sdk != "browser" or d.visitors.size:  # the browser SDK sends per page load
            sentry.record_session_aggregates(d.release, environment, mid, exited=exited,
                                             errored=errored, crashed=crashed)
        for variant in (OLD, NEW):
            fault, from_fault = d.faults[variant], d.fault_errors[variant]
            if fault is not None and from_fault:
                sentry.record_error_events(d.release, environment, mid, from_fault,
                                           exc_type=fault.exc_type, value=fault.message,
                                           culprit=PAGES[variant],
                                           unhandled=fault.crash)
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
        for v in (OLD, NEW):  # a visit counts under the variant of its first render
            p["visits"][v] += int((d.first == bool(v)).sum())
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

    def mark_incident(self, d: Draw, hit: tuple[bool, bool]) -> None:
        """Users active during the incident, and those served the faulty page (any page
        view of the visit; ``hit``: is the (old, new) page faulty)."""
        self.stats.marked_until = d.t1
        self.stats.mark_faulty(d.t0, d.visitors, self._served_faulty(d, hit))

    def mark_stale(self, d: Draw, hit: tuple[bool, bool]) -> None:
        """After recovery: the loads whose first render showed the faulty page from a
        stale persisted flag are impact, counted apart (as the incident traffic does)."""
        faulty = self._served_faulty(d, hit)
        if faulty is not None:
            self.stats.mark_stale_after_recovery(d.t0, d.visitors, faulty & (d.first != d.fresh))

    def stale_faulty_users(self, state: ServedState, hit: tuple[bool, bool]
                           ) -> np.ndarray | None:
        """Per user: would their next load render the faulty page from a stale persisted
        flag (``StaleFaulty.users``; None: nobody can)."""
        return self.stale.users(state, hit[NEW], hit[OLD])

    @staticmethod
    def _served_faulty(d: Draw, hit: tuple[bool, bool]) -> np.ndarray | None:
        return served_faulty(d.first, d.fresh, d.views > 1, hit[NEW], hit[OLD])
