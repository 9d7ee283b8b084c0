"""What every drill kind sets up the same way: the skeleton the three drills stand on.

``DrillSkeleton`` makes, in this order, the run's random streams, the SimPy environment,
the clock the fakes read, the journal, the population, who answers for the flag function
(the Python port, or the app's own module in Node: ``sim.world.flag_eval``), the fault
schedule, the world (the fakes wired for in-process HTTP) and the responder's model; it
ends the run at the scenario's horizon and closes the world (and Node) afterwards. A drill
kind (``sim.drills.incident``, ``sim.drills.rollout``, ``sim.drills.staging``) subclasses
it and adds only its own processes and results: ``run`` is the same frame for all (start,
run the clock until the end, finish, measure).

The order of construction is part of the contract: the population draws from its stream
first and the world seeds its fakes after it, so reordering moves every number.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator
from typing import Any, Generic, TypeVar

import numpy as np
import simpy

from sim.drills.responder import ResponderModel
from sim.journal import Journal
from sim.results.run import RunResult
from sim.rng import Streams
from sim.scenario.model import Scenario
from sim.world.clock import SimClock
from sim.world.fakes import build_world
from sim.world.faults import FaultSchedule
from sim.world.flag_eval import flag_evaluator
from sim.world.population import Population, build_population

Result = TypeVar("Result", bound=RunResult)


class DrillSkeleton(ABC, Generic[Result]):
    """The streams, clock, journal, population, faults, world and responder of one run;
    ``Result`` is what the kind's run returns."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.s = scenario
        self.seed = seed
        self.streams = Streams(seed)
        self.env = self._environment()
        self.clock = self._clock()
        self.journal = Journal(self.clock)
        self.population = self._population()
        # the port, or the app's own flag module in Node (draws nothing: numbers unmoved)
        self.flag_eval = flag_evaluator(scenario, self.population)
        self.faults = FaultSchedule(scenario)
        self.world = build_world(scenario, self.clock, self.streams,
                                 self.population.internal_ids(), self._alert, self._rejected,
                                 self.faults)
        self.responder = ResponderModel(self.env, scenario.responder, self.journal,
                                        self.streams.get("responder"),
                                        self.world.transport.meter if self.world.transport
                                        else None)
        self.stop = self.env.event()

    def _environment(self) -> simpy.Environment:
        """The run's SimPy environment: virtual time as fast as it goes (a game day
        overrides it with one that follows a live clock, ``sim.gameday.clock``)."""
        return simpy.Environment()

    def _clock(self) -> SimClock:
        """The clock the fakes read: ``env.now`` on the scenario's calendar."""
        return SimClock(self.env, self.s.start)

    def _population(self) -> Population:
        p = self.s.population
        return build_population(self.streams.get("population"), p.users, p.internal_users,
                                p.activity_sigma)

    # --- the run ----------------------------------------------------------------------

    def run(self) -> Result:
        """Start the kind's processes, run the clock until the run ends, close the books
        and measure the run; the world stays open (``run_and_close`` closes it)."""
        self._start()
        self.env.run(until=self._end())
        self._finish()
        result = self._result()
        result.flag_module = self.flag_eval.section()
        return result

    def run_and_close(self) -> Result:
        """Run the drill, then close the world whatever happened."""
        try:
            return self.run()
        finally:
            self.flag_eval.close()
            self.world.close()

    @abstractmethod
    def _start(self) -> None:
        """Journal the start of the drill and start its SimPy processes, in order."""

    def _end(self) -> simpy.Event:
        """The event that ends the run: ``stop`` (the horizon, or the kind's own end)."""
        return self.stop

    @abstractmethod
    def _finish(self) -> None:
        """Journal how the run ended."""

    @abstractmethod
    def _result(self) -> Result:
        """The run measured against the scenario's targets."""

    def _horizon(self) -> Generator[simpy.Event, Any, None]:
        """End the run at the scenario's horizon unless it was stopped before."""
        yield self.env.timeout(self.s.horizon)
        if not self.stop.triggered:
            self.stop.succeed()

    # --- hooks the world calls ----------------------------------------------------------

    @abstractmethod
    def _alert(self, payload: dict[str, Any]) -> None:
        """The pager received a Sentry alert: each kind says what that does."""

    def _rejected(self, why: str) -> None:
        self.journal.add("webhook_rejected", reason=why)

    # --- what every kind's result reports -----------------------------------------------

    def _control_plane_calls(self) -> int:
        return self.world.transport.calls if self.world.transport else 0

    def _samples(self, faulty: np.ndarray | None) -> list[dict[str, str]]:
        """Names of a few users served a faulty page (``faulty``: one flag per user)."""
        n = self.s.population.sample_names
        if faulty is None or not n or not faulty.any():
            return []
        return self.population.sample_names(faulty.nonzero()[0][:n], self.seed)
