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
from rollout.steps import Manual, RollbackFailed, Wait
from sim.journal import Journal
from sim.paths import start
from sim.scenario import Responder
from sim.world import World


class OnCall:
    """One responder process per drill; ``alerted`` is triggered by the pager."""

    def __init__(self, env: simpy.Environment, spec: Responder, world: World, journal: Journal,
                 rng: np.random.Generator, commander: Any = None) -> None:
        self.commander = commander
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
        if self.commander is not None:
            self.commander.on_decision(decision)
        if decision.action != "rollback":
            return
        ok = yield from self._execute(self.spec.path)
        if not ok and self.spec.fallback_path is not None:
            # Escalated (DevOps lead, CTO): someone with the other path's access takes over.
            yield self.env.timeout(self.spec.escalation_delay.sample(self.rng))
            self.journal.add("fallback_decision", path=self.spec.fallback_path,
                             reason=f"{self.spec.path} failed: escalated, rolling back via "
                                    f"{self.spec.fallback_path}")
            yield from self._execute(self.spec.fallback_path)

    def _execute(self, path: str) -> Generator[simpy.Event, Any, bool]:
        """Run the procedure of ``path``; True when it completed."""
        self.journal.add("rollback_started", path=path)
        procedure = start(path, self.world, self.spec)
        try:
            step = next(procedure)
            while True:
                yield self.env.timeout(self._duration(step))
                step = procedure.send(None)
        except StopIteration as done:
            self.journal.add("rollback_completed", path=path, **(done.value or {}))
            return True
        except RollbackFailed as failed:
            self.journal.add("rollback_failed", path=path, where=failed.where,
                             error=failed.message)
            if self.commander is not None:
                self.commander.on_rollback_failed(failed.where, failed.message)
            return False

    def _duration(self, step: Manual | Wait) -> float:
        if isinstance(step, Wait):
            return step.seconds
        seconds = self.spec.step_time.sample(self.rng) if self.spec.mode == "human" else 0.0
        self.journal.add("manual_step", what=step.what, seconds=round(seconds, 3))
        return seconds
