"""A visit's page views under the browser clients, shared by every drill's traffic.

A visit is one page load of the SPA: its first page view shows what posthog-js answers
first (``sim.world.flag_client``: the persisted flag under ``reads: render``), its later
page views (in-app navigations) the fresh ``/flags`` answer. From the two per visitor
this module says which visits showed the faulty page, which visits' sessions erred
(@sentry/browser: one session per page load, ``sim.world.monitoring``), and which users'
next load would still render the faulty page from a stale persisted flag. The incident
traffic (``sim.world.traffic``) and the rollout traffic (``sim.drills.rollout_traffic``)
both use it, so the two drills count the same things the same way.
"""

from __future__ import annotations

import numpy as np

from sim.world.flag_client import FlagClients
from sim.world.served import ServedState


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
    return int(hit.sum())


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
