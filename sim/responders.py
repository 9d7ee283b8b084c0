"""The on-call responder: hears the alert, decides, and runs the rollback procedure.

A human responder takes a decision delay drawn from the scenario and a drawn time for
every manual step; the automated mode decides and acts after ``automation_latency`` and
does manual steps instantly (an API call). The procedure itself is ``rollout.actions``
code making real HTTP calls; its waits pass in virtual time.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from rollout.decision import decide
from rollout.steps import Manual, Procedure, RollbackFailed, Wait
from sim.journal import Journal
from sim.paths import start
from sim.scenario import Responder
from sim.world import World


class OnCall:
    """One responder process per drill; ``alerted`` is triggered by the pager."""

    def __init__(self, env: simpy.Environment, spec: Responder, world: World, journal: Journal,
                 rng: np.random.Generator) -> None:
        self.env = env
        self.spec = spec
        self.world = world
        self.journal = journal
        self.rng = rng
        self.alerted = env.event()

    def hear(self, payload: dict[str, Any]) -> None:
        """The pager's callback: the first critical alert wakes the responder."""
        if payload.get("action") == "critical" and not self.alerted.triggered:
            self.alerted.succeed(payload)

    def run(self) -> Generator[simpy.Event, Any, None]:
        payload = yield self.alerted
        human = self.spec.mode == "human"
        delay = self.spec.decision_delay.sample(self.rng) if human else self.spec.automation_latency
        yield self.env.timeout(delay)
        decision = decide(payload, self.spec.path)
        self.journal.add("decision", action=decision.action, severity=decision.severity.value,
                         reason=decision.reason, path=decision.path, responder=self.spec.mode)
        if decision.action == "rollback":
            yield from self._execute(start(self.spec.path, self.world, self.spec))

    def _execute(self, procedure: Procedure) -> Generator[simpy.Event, Any, None]:
        self.journal.add("rollback_started", path=self.spec.path)
        try:
            step = next(procedure)
            while True:
                yield self.env.timeout(self._duration(step))
                step = procedure.send(None)
        except StopIteration as done:
            self.journal.add("rollback_completed", path=self.spec.path, **(done.value or {}))
        except RollbackFailed as failed:
            self.journal.add("rollback_failed", path=self.spec.path, where=failed.where,
                             error=failed.message)

    def _duration(self, step: Manual | Wait) -> float:
        if isinstance(step, Wait):
            return step.seconds
        seconds = self.spec.step_time.sample(self.rng) if self.spec.mode == "human" else 0.0
        self.journal.add("manual_step", what=step.what, seconds=round(seconds, 3))
        return seconds
