"""posthog-js in every user's browser: the flag answer each persisted, read first.

posthog-js keeps the flags of its last ``/flags`` answer in the browser's persistence
(``localStorage``, posthog-js's default ``localStorage+cookie``) and, on the next page
load, answers ``isFeatureEnabled`` from them at once; the load's own ``POST /flags/?v=2``
returns tens of ms later, replaces the persisted flags and runs the ``onFeatureFlags``
callbacks. Recorded against the real posthog-js 1.449 in headless Chromium
(``tests/fakes/browser/test_browser_sdks.py``: the first render after the flag was turned
off still reads the persisted ``true``); posthog-js's ``isFeatureEnabled`` answers from
``getFlagVariants()`` (the persisted ``$enabled_feature_flags``) whenever flags are
persisted or loaded, and ``parseFlagsResponse`` leaves them untouched when an answer
carries no flags (github:PostHog/posthog-js, ``packages/browser/src/posthog-featureflags.ts``).

``FlagClients`` holds, per user, the answer their browser persisted (int8: -1 nothing
persisted, 0 off, 1 on) and gives, for a tick's visitors at once, what the page load
renders first and what the fresh answer renders:

- ``reads: render`` (the runbook's ``shouldShowNewContacts``, called while rendering,
  nothing subscribes): the load's first page view shows the persisted value and keeps it
  (nothing re-renders it); the visit's later page views are in-app navigations rendered
  after ``/flags`` answered, so they read the fresh value;
- ``reads: subscribe`` (the app re-renders from ``onFeatureFlags``): the load re-renders
  with the fresh value tens of ms after its first render; that flash, before anyone can
  use the page, is not counted as a page view of the stale variant.

Then the fresh answer is persisted. An open tab also reloads flags every 5 minutes
(``remote_config_refresh_interval_ms``); not modelled, since the visit's later page views
already read the load's own fresh answer, and the model has no long-lived tabs. Nothing
is persisted from a load whose ``/flags`` cannot answer (a PostHog outage); such loads
still render the env fallback as before (posthog-js would answer from the persisted
flags: not followed yet, see the README).

At the first page load under a build that reads the PostHog flag, every browser is taken
to hold the answer of that moment: users have used the app before the drill, under the
flag as it stood (a default the model cannot know better; a first visit with nothing
persisted would read ``undefined`` and fall back to the env flag).
"""

from __future__ import annotations

import numpy as np

from rollout.release.flags import REMOTE_UNDEFINED, FlagMode, evaluate_population
from sim.world.population import Population
from sim.world.served import ServedState


class FlagClients:
    """The flag answer every user's posthog-js persisted, and what their loads render."""

    def __init__(self, population: Population, reads: str) -> None:
        self.pop = population
        self.reads = reads
        self.persisted = np.full(population.size, REMOTE_UNDEFINED, dtype=np.int8)
        self._primed = False

    def page_loads(self, visitors: np.ndarray, state: ServedState
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(first, fresh)`` per visitor: does the load's first page view show the new
        page, and does the fresh ``/flags`` answer. Persists the fresh answer."""
        fresh = state.new_page[visitors]
        if state.remote is None:  # the build ignores PostHog, or /flags cannot answer
            return fresh, fresh
        if not self._primed:
            self.persisted[:] = state.remote
            self._primed = True
        if self.reads == "subscribe":
            first = fresh
        else:
            first = self._render(state, self.persisted[visitors], visitors)
        self.persisted[visitors] = state.remote[visitors]
        return first, fresh

    def stale_first_render(self, state: ServedState) -> tuple[np.ndarray, np.ndarray] | None:
        """``(stale, shows_new)`` for every user: would their next load's first render
        differ from the fresh answer, and show the new page. None when no load reads a
        persisted flag (subscribe, or the build ignores PostHog)."""
        if self.reads == "subscribe" or state.remote is None or not self._primed:
            return None
        everyone = np.arange(self.pop.size)
        shows_new = self._render(state, self.persisted, everyone)
        return shows_new != state.new_page, shows_new

    def _render(self, state: ServedState, remote: np.ndarray, visitors: np.ndarray
                ) -> np.ndarray:
        """What the runbook's code renders for ``visitors`` whose posthog-js answers
        ``remote`` (-1: undefined, so the build's env flag decides)."""
        build = state.build
        if build.down or not build.has_redesign:
            return np.zeros(visitors.size, dtype=bool)
        return evaluate_population(FlagMode.REMOTE, self.pop.buckets[visitors],
                                   self.pop.is_internal[visitors], build.env, remote)
