"""A visit's page views under the browser clients, shared by every drill's traffic.

A visit is one page load of the SPA: its first page view shows what posthog-js answers
first (``sim.world.flag_client``: the persisted flag under ``reads: render``), its later
page views (in-app navigations) the fresh ``/flags`` answer. From the two per visitor
this module says which visits showed the faulty page, which visits' sessions erred
(@sentry/browser: one session per page load, ``sim.world.monitoring``), and which users'
next load would still render the faulty page from a stale persisted flag. The incident
traffic (``sim.world.traffic``) and the rollout traffic (``sim.drills.rollout_traffic``)
both use it, so the two drills count the same things the same way; both start from
``page_load_state``: the per-user marks and series (``TrafficStats``), the flag clients and
the stale-faulty tracker, built one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scenario.traffic import FlagClient
from sim.world.flag_client import FlagClients
from sim.world.flag_eval import FlagEvaluator
from sim.world.population import Population
from sim.world.served import ServedState

SERIES = ("visits_old", "visits_new", "pageviews_old", "pageviews_new", "errors_old",
          "errors_new", "p95_ms_old", "p95_ms_new", "exposure_pct", "faulty_pct")


@dataclass
class TrafficStats:
    """Per-tick series and per-user incident marks."""

    ticks: int
    series: dict[str, np.ndarray] = field(default_factory=dict)
    active_in_incident: np.ndarray | None = None
    served_faulty: np.ndarray | None = None
    served_down: np.ndarray | None = None  # bool per user: visited while the app was down
    faulty_pageviews: int = 0  # visits (page loads) served the faulty page
    down_visits: int = 0  # visits during the incident that got nothing (app down)
    marked_until: float | None = None  # end of the last tick whose visitors were marked
    active_in_window: np.ndarray | None = None  # bool per user (sim.world.activity)
    stale_after_run: np.ndarray | None = None  # bool per user: a stale faulty load after the run
    last_faulty_at: float | None = None
    last_variant: np.ndarray | None = None  # int8 per user: -1 never seen, 0 old, 1 new
    flipped: np.ndarray | None = None  # bool per user: has seen both pages
    stale_loads: int = 0  # loads whose first render differed from the fresh /flags answer
    stale_faulty_after_recovery: int = 0  # of those, faulty loads after recovery
    last_stale_faulty_at: float | None = None

    def __post_init__(self) -> None:
        self.series = {name: np.zeros(self.ticks) for name in ("t", *SERIES)}

    def mark_faulty(self, t0: float, visitors: np.ndarray, faulty: np.ndarray | None) -> None:
        """Mark the visitors whose visit showed the faulty page (they are active, too).
        After recovery only these few are marked, so the window's active users
        (``sim.world.activity``) still count from where the incident's marks end."""
        assert self.active_in_incident is not None and self.served_faulty is not None
        self.active_in_incident[visitors] = True
        if faulty is not None and faulty.any():
            self.served_faulty[visitors[faulty]] = True
            self.faulty_pageviews += int(np.count_nonzero(faulty))
            self.last_faulty_at = t0

    def mark_stale_after_recovery(self, t0: float, visitors: np.ndarray,
                                  faulty: np.ndarray) -> None:
        """Loads after recovery that still render the faulty page from the flags their
        browser persisted (``faulty``, per visitor): impact (served the faulty page),
        counted apart."""
        if not faulty.any():
            return
        self.mark_faulty(t0, visitors[faulty], faulty[faulty])
        self.stale_faulty_after_recovery += int(np.count_nonzero(faulty))
        self.last_stale_faulty_at = t0

    def track_flips(self, visitors: np.ndarray, first: np.ndarray, fresh: np.ndarray,
                    more: np.ndarray) -> None:
        """Mark users whose page changed since their last page view (both pages seen):
        the load's first view shows ``first``, its later views (``more``) ``fresh``."""
        assert self.last_variant is not None and self.flipped is not None
        seen = self.last_variant[visitors]
        shown = first.astype(np.int8)
        changed = ((seen >= 0) & (seen != shown)) | (more & (first != fresh))
        self.flipped[visitors[changed]] = True
        self.last_variant[visitors] = np.where(more, fresh.astype(np.int8), shown)


@dataclass
class PageLoadState:
    """What a drill's traffic keeps per user across its page loads: the marks and series
    (``stats``), the flag each browser persisted (``flags``), and who would still render the
    faulty page from it (``stale``)."""

    stats: TrafficStats
    flags: FlagClients
    stale: StaleFaulty


def page_load_state(population: Population, client: FlagClient, rows: int,
                    persisted_rng: np.random.Generator | None,
                    evaluator: FlagEvaluator | None = None) -> PageLoadState:
    """The per-user state of a drill's page loads, every mark clear, with ``rows``
    series rows; the incident and rollout traffic both start from it. ``evaluator``
    answers for the flag function (default the Python port)."""
    size = population.size
    stats = TrafficStats(rows)
    stats.active_in_incident = np.zeros(size, dtype=bool)
    stats.served_faulty = np.zeros(size, dtype=bool)
    stats.served_down = np.zeros(size, dtype=bool)
    stats.last_variant = np.full(size, -1, dtype=np.int8)
    stats.flipped = np.zeros(size, dtype=bool)
    flags = FlagClients(population, client, persisted_rng, evaluator)
    return PageLoadState(stats, flags, StaleFaulty(flags))


def faulty_shown(new: np.ndarray, new_hit: bool, old_hit: bool) -> np.ndarray | None:
    """Per page view showing the new page (``new``): is it a faulty page (None: no page
    is faulty)."""
    if new_hit and old_hit:
        return np.ones_like(new)
    if new_hit:
        return new
    return ~new if old_hit else None


def served_faulty(first: np.ndarray, fresh: np.ndarray, more: np.ndarray, new_hit: bool,
                  old_hit: bool) -> np.ndarray | None:
    """Per visitor: did any page view of the visit show the faulty page (the first view
    shows ``first``; the later ones, when ``more``, show ``fresh``)."""
    at_load = faulty_shown(first, new_hit, old_hit)
    if at_load is None:
        return None
    later = faulty_shown(fresh, new_hit, old_hit)
    assert later is not None
    return at_load | (later & more)


def views_of_new(first: np.ndarray, fresh: np.ndarray, views: np.ndarray) -> np.ndarray:
    """Per visit: its page views of the new page (the first view's, then the later ones')."""
    return first + (views - 1) * fresh


def errored_visits(rng: np.random.Generator, views_new: np.ndarray, views_old: np.ndarray,
                   e_new: int, e_old: int) -> int:
    """Visits with at least one of the interval's errors: each variant's errors fall on
    distinct page views of that variant, uniformly. Drawn from ``rng``, the sessions'
    own stream, so the traffic's own draws stay as they were."""
    hit = np.zeros(views_new.size, dtype=bool)
    for per_visit, errors in ((views_new, e_new), (views_old, e_old)):
        if errors:
            ends = np.cumsum(per_visit)
            picked = rng.choice(int(ends[-1]), size=errors, replace=False)
            hit[np.searchsorted(ends, picked, side="right")] = True
    return int(np.count_nonzero(hit))


class StaleFaulty:
    """Who would render the faulty page at their next load from the flag their browser
    persisted, though the fresh answer no longer serves it."""

    def __init__(self, flags: FlagClients) -> None:
        self.flags = flags
        self._key: tuple[object, ...] | None = None
        self._pending: np.ndarray | None = None

    def users(self, state: ServedState, new_hit: bool, old_hit: bool) -> np.ndarray | None:
        """Per user, under ``state`` with the new/old page faulty as said (None: nobody
        can). Computed over the population once per (state, faults) and kept up to date
        as visitors persist the fresh answer (``loaded``); read it, do not keep it."""
        key = (state.key, new_hit, old_hit)
        if key != self._key:
            self._key, self._pending = key, None
            found = self.flags.stale_first_render(state)
            if found is not None:
                stale, shows_new = found
                faulty = faulty_shown(shows_new, new_hit, old_hit)
                self._pending = None if faulty is None else stale & faulty
        return self._pending

    def loaded(self, visitors: np.ndarray) -> None:
        """``visitors`` loaded the page: they hold the fresh answer now."""
        if self._pending is not None:
            self._pending[visitors] = False
