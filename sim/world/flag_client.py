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
already read the load's own fresh answer, and the model has no long-lived tabs.

When ``/flags`` cannot answer (a PostHog outage) nothing is persisted and nothing
re-renders: posthog-js's ``handleResponse`` passes a non-200 answer to
``_receivedFeatureFlags`` with ``errorsLoading``, whose ``parseFlagsResponse`` returns
without a patch when the answer carries no flags, and ``handleError`` (no answer at all)
only records ``$feature_flag_errors``; ``getFeatureFlag`` then keeps answering from the
persisted flags (github:PostHog/posthog-js ``packages/browser/src/posthog-featureflags.ts``,
recorded in ``tests/fakes/browser/test_browser_sdks.py``). So every page view of such a
load renders the persisted value, and a browser with nothing persisted reads
``undefined``: the runbook's code falls back to the env flag. posthog-js's optional
``feature_flag_cache_ttl_ms`` (unset by default, so persisted flags never go stale) is not
modelled.

At the first page load under a build that reads the PostHog flag, a share
``flag.client.persisted_share`` of the browsers is taken to hold the answer of that moment
(their users used the app in this browser before the drill, under the flag as it stood);
the others have nothing persisted until their first load that ``/flags`` answers, and
read ``undefined`` until then. The share defaults to 1 (every browser), a default the
model cannot know better: it is the share of the day's users whose browser kept
posthog-js's ``localStorage`` since their last visit (not a first visit on this device, a
private window, or cleared storage).
"""

from __future__ import annotations

import numpy as np

from rollout.release.flags import REMOTE_UNDEFINED, FlagMode
from sim.scenario.traffic import FlagClient
from sim.world.flag_eval import FlagEvaluator, PortEvaluator
from sim.world.population import Population
from sim.world.served import ServedState


class FlagClients:
    """The flag answer every user's posthog-js persisted, and what their loads render."""

    def __init__(self, population: Population, spec: FlagClient,
                 rng: np.random.Generator | None = None,
                 evaluator: FlagEvaluator | None = None) -> None:
        self.pop = population
        self.evaluator = evaluator or PortEvaluator(population)  # who answers for the flag
        self.reads = spec.reads
        self.persisted_share = spec.persisted_share
        self.rng = rng  # who had nothing persisted (drawn once, only when the share < 1)
        self.persisted = np.full(population.size, REMOTE_UNDEFINED, dtype=np.int8)
        self._primed = False

    def page_loads(self, visitors: np.ndarray, state: ServedState
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(first, fresh)`` per visitor: does the load's first page view show the new
        page, and does the fresh ``/flags`` answer. Persists the fresh answer. While
        ``/flags`` cannot answer, ``state.new_page`` is already what the persisted flags
        render (``sim.world.served``), and nothing is persisted."""
        fresh = state.new_page[visitors]
        if state.remote is None:  # the build ignores PostHog, or /flags cannot answer
            return fresh, fresh
        if not self._primed:
            self._prime(state.remote)
        if self.reads == "subscribe":
            first = fresh
        else:
            first = self._render(state, self.persisted[visitors], visitors)
        self.persisted[visitors] = state.remote[visitors]
        return first, fresh

    def _prime(self, answer: np.ndarray) -> None:
        """Before the drill, users' browsers persisted the answer of this moment; those
        that did not (1 − ``persisted_share``) hold nothing."""
        self._primed = True
        if self.persisted_share >= 1.0:
            self.persisted[:] = answer
            return
        assert self.rng is not None, "a persisted share below 1 needs its own stream"
        kept = self.rng.random(self.pop.size) < self.persisted_share
        self.persisted[kept] = answer[kept]

    def stale_first_render(self, state: ServedState) -> tuple[np.ndarray, np.ndarray] | None:
        """``(stale, shows_new)`` for every user: would their next load's first render
        differ from the fresh answer, and show the new page. None when no load reads a
        persisted flag (subscribe, or the build ignores PostHog)."""
        if self.reads == "subscribe" or state.remote is None or not self._primed:
            return None  # (during an outage a load's first render is what it keeps)
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
        return self.evaluator.evaluate(FlagMode.REMOTE, build, remote, visitors)
