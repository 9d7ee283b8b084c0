"""What a page load gets right now: the live build and the flag, for every user at once.

The variant of a page view is decided by ``rollout.release.flags`` from the state the fakes
actually serve: the build the production alias points at (its baked ``VITE_*`` env,
whether it contains the redesign) and, in the remote form, the PostHog flag as the
client fetches it at page load. During a PostHog outage no ``/flags`` answers, so each
browser renders from the flags its posthog-js persisted (``undefined`` where nothing is
persisted: the env flag decides); nothing persists meanwhile, so that answer holds for
the whole outage, read from ``sim.world.flag_client`` when the state is made. The whole
population's answer is cached until that state changes, so a tick only indexes arrays.
What a page load renders first, from the flags persisted at the user's previous load, is
``sim.world.flag_client``'s part. Who answers for the flag function, the Python port or
the app's own module in Node, is the ``evaluator``'s part (``sim.world.flag_eval``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fakes.common.serving import LiveBuild
from rollout.release.flags import REMOTE_UNDEFINED, FlagMode
from sim.world.flag_eval import FlagEvaluator, PortEvaluator
from sim.world.population import Population


@dataclass(frozen=True)
class ServedState:
    """The population's variants under one (build, flag) state."""

    key: tuple[object, ...]
    build: LiveBuild
    new_page: np.ndarray  # bool per user: would render ContactsPageNew now
    exposure: float  # share of users who would get the new page
    # int8 per user, what this page load's /flags answers and posthog-js persists (1 on,
    # 0 off): None when the build does not read the PostHog flag or /flags cannot answer
    remote: np.ndarray | None = None


class ServedStateCache:
    """Recomputes the population's variants only when the build or the flag changed."""

    def __init__(self, population: Population, mode: FlagMode,
                 persisted: Callable[[], np.ndarray] | None = None,
                 evaluator: FlagEvaluator | None = None) -> None:
        self.population = population
        self.mode = mode
        self.persisted = persisted  # int8 per user, what posthog-js persisted (flag_client)
        self.evaluator = evaluator or PortEvaluator(population)
        self._state: ServedState | None = None

    def current(self, build: LiveBuild, flag_version: object,
                flag: Callable[[], dict[str, object] | None],
                remote_reachable: bool) -> ServedState:
        """The state for this build and flag version; ``flag()`` is read only on a change."""
        mode = build.flag_mode or self.mode
        key = (build.deployment_id, flag_version if mode is FlagMode.REMOTE else None,
               remote_reachable)
        if self._state is None or self._state.key != key:
            self._state = self._compute(key, build, flag(), remote_reachable)
        return self._state

    def _compute(self, key: tuple[object, ...], build: LiveBuild,
                 flag: dict[str, object] | None, remote_reachable: bool) -> ServedState:
        pop = self.population
        mode = build.flag_mode or self.mode
        remote = None
        if mode is FlagMode.REMOTE and not build.down:
            remote = self._remote(flag, remote_reachable)
        if build.down or not build.has_redesign:
            new = np.zeros(pop.size, dtype=bool)
        else:
            new = self.evaluator.evaluate(mode, build, remote)
        answered = remote if remote_reachable else None
        return ServedState(key, build, new, float(new.mean()) if pop.size else 0.0, answered)

    def _remote(self, flag: dict[str, object] | None, reachable: bool) -> np.ndarray:
        size = self.population.size
        if not reachable:  # no answer: posthog-js answers from what it persisted
            if self.persisted is None:
                return np.full(size, REMOTE_UNDEFINED, dtype=np.int8)
            return self.persisted().copy()
        if flag is None:
            # Loaded, but the flag is absent from /flags (inactive or deleted): posthog-js
            # answers isFeatureEnabled with undefined for a missing or disabled flag
            # (posthog-js changeset "isFeatureEnabled now returns undefined (instead of
            # false) for missing or disabled feature flags"; recorded in
            # tests/fakes/browser), so the runbook's code falls back to the env flag.
            return np.full(size, REMOTE_UNDEFINED, dtype=np.int8)
        from fakes.posthog.evaluation import rollout_mask

        key = str(flag["key"])
        mask = rollout_mask(flag, self.population.posthog_hashes(key), self.population.ids)
        return mask.astype(np.int8)
