"""The drill skeleton (``sim.drills.skeleton``): what every drill kind shares is built once,
in one order, and the world is closed whatever happens."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim.drills.incident import IncidentDrill
from sim.drills.rollout import RolloutDrill
from sim.drills.skeleton import DrillSkeleton
from sim.drills.staging import StagingDrill
from sim.results.run import RunResult
from sim.rng import Streams
from sim.scenario.model import Scenario
from sim.world.population import build_population

Load = Callable[..., Scenario]


class Exploding(DrillSkeleton[RunResult]):
    """A drill kind whose run fails as it starts."""

    closed = 0

    def _start(self) -> None:
        close = self.world.close

        def counted() -> None:
            Exploding.closed += 1
            close()

        self.world.close = counted  # type: ignore[method-assign]
        raise RuntimeError("boom")

    def _alert(self, payload: dict[str, object]) -> None: ...
    def _finish(self) -> None: ...
    def _result(self) -> RunResult:
        raise AssertionError("never measured")


def test_every_drill_kind_stands_on_the_skeleton() -> None:
    """One skeleton: the incident, rollout and staging drills all subclass it."""
    assert all(issubclass(kind, DrillSkeleton)
               for kind in (IncidentDrill, RolloutDrill, StagingDrill))


def test_run_and_close_closes_the_world_when_the_run_raises(scenario: Load) -> None:
    """A run that fails still closes its world (temporary repositories, transports)."""
    drill = Exploding(scenario("critical-bug-flag-disable"), 7)
    with pytest.raises(RuntimeError, match="boom"):
        drill.run_and_close()
    assert Exploding.closed == 1


def test_the_population_is_the_first_draw_of_its_stream(scenario: Load) -> None:
    """The skeleton builds the population from the ``population`` stream before anything
    else draws from it, so every kind gets the same users for the same seed."""
    s = scenario("critical-bug-flag-disable")
    drill = IncidentDrill(s, 11)
    try:
        p = s.population
        expected = build_population(Streams(11).get("population"), p.users, p.internal_users,
                                    p.activity_sigma)
        assert np.array_equal(drill.population.ids, expected.ids)
        assert np.array_equal(drill.population.is_internal, expected.is_internal)
    finally:
        drill.world.close()
