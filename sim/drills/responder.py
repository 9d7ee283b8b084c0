"""The on-call responder: hears the alert, decides, and runs the rollback procedure.

A human responder takes a decision delay drawn from the scenario and a drawn time for
every manual step; the automated mode decides and acts after ``automation_latency`` and
does manual steps instantly (an API call). The procedure itself is ``rollout.rollback.platforms``
code making real HTTP calls; its waits pass in virtual time.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from rollout.incident.decision import decide
from rollout.rollback.steps import Manual, Procedure, RollbackFailed, Wait
from sim.drills.paths import start
from sim.journal import Journal
from sim.scenario.responder import Responder
from sim.world.fakes import World
from sim.world.procedures import drive


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
        paged = payload.get("action") == "critical" or "report" in payload
        if paged and not self.alerted.triggered:
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
        if decision.action == "investigate":
            yield from self._scenario2()
            return
        ok = yield from self._execute(self.spec.path)
        if not ok and self.spec.fallback_path is not None:
            # Escalated (DevOps lead, CTO): someone with the other path's access takes over.
            yield self.env.timeout(self.spec.escalation_delay.sample(self.rng))
            self.journal.add("fallback_decision", path=self.spec.fallback_path,
                             reason=f"{self.spec.path} failed: escalated, rolling back via "
                                    f"{self.spec.fallback_path}")
            yield from self._execute(self.spec.fallback_path)

    def _scenario2(self) -> Generator[simpy.Event, Any, None]:
        """Scenario 2: reduce the rollout to 10 %, investigate, then hotfix and re-increase
        the rollout, or roll back by the scenario's path when no quick fix exists."""
        before = self._exposure_setting()
        yield from self._run("scenario2_reduce", self._set_rollout(10.0))
        yield self.env.timeout(self.spec.investigation_time.sample(self.rng))
        self.journal.add("investigation_done", hotfix=self.spec.hotfix)
        if self.spec.hotfix == "available":
            from rollout.rollback.platforms import vercel_hotfix

            yield from self._run("hotfix", vercel_hotfix(
                self.world.vercel_api(), self.world.project_id, self.spec.hotfix_version,
                self.spec.poll_interval))
            yield from self._run("rollout_restored", self._set_rollout(before))
        else:
            yield from self._execute(self.spec.path)

    def _exposure_setting(self) -> float:
        flag = self.world.posthog.flag_by_key(self.world.flag_key)
        if self.world.flag_mode.value == "remote" and flag is not None:
            groups = (flag.definition().get("filters") or {}).get("groups") or [{}]
            return float(groups[0].get("rollout_percentage") or 0.0)
        env = self.world.live_build().env
        return float(env.rollout_percentage) if env.rollout_percentage == \
            env.rollout_percentage else 0.0

    def _set_rollout(self, percentage: float) -> Procedure:
        from rollout.release.flags import ROLLOUT_ENV
        from rollout.rollback.platforms import set_posthog_rollout, vercel_set_env

        if self.world.flag_mode.value == "remote":
            return set_posthog_rollout(self.world.posthog_api(), self.world.flag_key,
                                       percentage)
        return vercel_set_env(self.world.vercel_api(), self.world.project_id, ROLLOUT_ENV,
                              f"{percentage:g}", self.spec.poll_interval)

    def _run(self, kind: str, procedure: Procedure) -> Generator[simpy.Event, Any, bool]:
        """Run a non-rollback procedure, journaling ``kind`` with what it returned."""
        try:
            done = yield from drive(self.env, procedure, self._duration)
        except RollbackFailed as failed:
            self.journal.add(f"{kind}_failed", where=failed.where, error=failed.message)
            return False
        self.journal.add(kind, **(done or {}))
        return True

    def _execute(self, path: str) -> Generator[simpy.Event, Any, bool]:
        """Run the procedure of ``path``; True when it completed."""
        self.journal.add("rollback_started", path=path)
        try:
            done = yield from drive(self.env, start(path, self.world, self.spec),
                                    self._duration)
        except RollbackFailed as failed:
            self.journal.add("rollback_failed", path=path, where=failed.where,
                             error=failed.message)
            if self.commander is not None:
                self.commander.on_rollback_failed(failed.where, failed.message)
            return False
        self.journal.add("rollback_completed", path=path, **(done or {}))
        return True

    def _duration(self, step: Manual | Wait) -> float:
        if isinstance(step, Wait):
            return step.seconds
        seconds = self.spec.step_time.sample(self.rng) if self.spec.mode == "human" else 0.0
        self.journal.add("manual_step", what=step.what, seconds=round(seconds, 3))
        return seconds
