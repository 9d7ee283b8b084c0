"""The responder: one model of how long a person (or the automation) takes, and on-call.

``ResponderModel`` is the one place the responder's timing is drawn, for every drill: a
human takes a decision delay drawn from the scenario and a drawn time for every manual
step; the automated mode decides after ``automation_latency`` and does manual steps
instantly (an API call). It also draws the escalation delay and the investigation time,
and runs procedures (``rollout.rollback.platforms`` code making real HTTP calls) in
virtual time, each call costing its drawn latency (``sim.world.latency``), journaling
what they returned or how they failed, with the calls they made and their cost.

``OnCall`` is the incident drill's responder: it hears the alert, waits (a human) until
the page is acknowledged, then takes its decision delay and decides by the runbook's
decision tree, and runs the rollback path (escalating to the fallback path on failure).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from rollout.incident.decision import decide
from rollout.steps import Procedure, RollbackFailed, Step, Wait
from sim.drills.paths import start
from sim.journal import Journal
from sim.scenario.responder import Responder
from sim.world.fakes import World
from sim.world.latency import CallMeter
from sim.world.procedures import drive


class ResponderModel:
    """How long the responder takes, drawn from one stream in the order things happen."""

    def __init__(self, env: simpy.Environment, spec: Responder, journal: Journal,
                 rng: np.random.Generator, meter: CallMeter | None = None) -> None:
        self.env = env
        self.spec = spec
        self.journal = journal
        self.rng = rng
        self.meter = meter

    @property
    def human(self) -> bool:
        return self.spec.mode == "human"

    def decision_delay(self) -> float:
        """From the page's acknowledgement (or a gate's NO-GO) to the decision."""
        return self.spec.decision_delay.sample(self.rng) if self.human \
            else self.spec.automation_latency

    def escalation_delay(self) -> float:
        """From a failed rollback to someone with the fallback path's access taking over."""
        return self.spec.escalation_delay.sample(self.rng)

    def investigation_time(self) -> float:
        """Scenario 2: from reducing the rollout to knowing whether a hotfix exists."""
        return self.spec.investigation_time.sample(self.rng)

    def step_duration(self, step: Step) -> float:
        """A wait takes its seconds; a manual step a drawn step time (journaled)."""
        if isinstance(step, Wait):
            return float(step.seconds)
        seconds = self.spec.step_time.sample(self.rng) if self.human else 0.0
        self.journal.add("manual_step", what=step.what, seconds=round(seconds, 3))
        return seconds

    def drive(self, procedure: Procedure) -> Generator[simpy.Event, Any, Any]:
        """Run ``procedure`` in virtual time at this responder's pace, its HTTP calls
        timed by the meter; returns its result."""
        return (yield from drive(self.env, procedure, self.step_duration, self.meter))

    def perform(self, kind: str, procedure: Procedure, failed: str | None = None,
                on_failed: Callable[[RollbackFailed], None] | None = None,
                **extra: Any) -> Generator[simpy.Event, Any, bool]:
        """Run ``procedure``; journal ``kind`` with ``extra`` and its result, or ``failed``
        (default ``<kind>_failed``) with where and why it raised RollbackFailed, then call
        ``on_failed``. With a call meter both records carry ``api_calls`` and
        ``api_latency_s``: the timed calls the procedure made and the virtual time they
        cost. True when it completed."""
        calls, paid = self._metered()
        try:
            done = yield from self.drive(procedure)
        except RollbackFailed as exc:
            self.journal.add(failed or f"{kind}_failed", **extra, where=exc.where,
                             error=exc.message, **self._cost(calls, paid))
            if on_failed is not None:
                on_failed(exc)
            return False
        self.journal.add(kind, **extra, **(done or {}), **self._cost(calls, paid))
        return True

    def _metered(self) -> tuple[int, float]:
        return (0, 0.0) if self.meter is None else (self.meter.timed_calls, self.meter.paid_s)

    def _cost(self, calls: int, paid: float) -> dict[str, Any]:
        if self.meter is None:
            return {}
        now_calls, now_paid = self._metered()
        return {"api_calls": now_calls - calls, "api_latency_s": round(now_paid - paid, 3)}


class OnCall:
    """The incident drill's responder process; ``alerted`` is triggered by the pager."""

    def __init__(self, model: ResponderModel, world: World, commander: Any = None) -> None:
        self.model = model
        self.commander = commander
        self.env = model.env
        self.spec = model.spec
        self.world = world
        self.journal = model.journal
        self.alerted = model.env.event()

    def hear(self, payload: dict[str, Any]) -> None:
        """The pager's callback: the first critical alert wakes the responder."""
        paged = payload.get("action") == "critical" or "report" in payload
        if paged and not self.alerted.triggered:
            self.alerted.succeed(payload)

    def run(self) -> Generator[simpy.Event, Any, None]:
        payload = yield self.alerted
        acked = yield from self._acknowledged()
        yield self.env.timeout(self.model.decision_delay())
        decision = decide(payload, self.spec.path)
        self.journal.add("decision", action=decision.action, severity=decision.severity.value,
                         reason=decision.reason, path=decision.path, responder=self.spec.mode,
                         **acked)
        if self.commander is not None:
            self.commander.on_decision(decision)
        if decision.action == "investigate":
            yield from self._scenario2()
            return
        ok = yield from self._execute(self.spec.path)
        if not ok and self.spec.fallback_path is not None:
            # Escalated (DevOps lead, CTO): someone with the other path's access takes over.
            yield self.env.timeout(self.model.escalation_delay())
            self.journal.add("fallback_decision", path=self.spec.fallback_path,
                             reason=f"{self.spec.path} failed: escalated, rolling back via "
                                    f"{self.spec.fallback_path}")
            yield from self._execute(self.spec.fallback_path)

    def _acknowledged(self) -> Generator[simpy.Event, Any, dict[str, Any]]:
        """A person decides only once paged and acknowledged: wait for the page's
        acknowledgement (by whichever level of the chain). The automation acts on the
        alert's webhook itself: no page, no wait."""
        if not self.model.human or self.commander is None:
            return {}
        ack = yield self.commander.acknowledged
        return {"acknowledged_at": round(ack.at, 3), "acknowledged_by": ack.role.value}

    def _scenario2(self) -> Generator[simpy.Event, Any, None]:
        """Scenario 2: reduce the rollout to 10 %, investigate, then hotfix and re-increase
        the rollout, or roll back by the scenario's path when no quick fix exists."""
        before = self._exposure_setting()
        yield from self.model.perform("scenario2_reduce", self._set_rollout(10.0))
        yield self.env.timeout(self.model.investigation_time())
        self.journal.add("investigation_done", hotfix=self.spec.hotfix)
        if self.spec.hotfix == "available":
            from rollout.rollback.platforms import vercel_hotfix

            yield from self.model.perform("hotfix", vercel_hotfix(
                self.world.vercel_api(), self.world.project_id, self.spec.hotfix_version,
                self.spec.poll_interval))
            yield from self.model.perform("rollout_restored", self._set_rollout(before))
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

    def _execute(self, path: str) -> Generator[simpy.Event, Any, bool]:
        """Run the procedure of ``path``; True when it completed."""
        self.journal.add("rollback_started", path=path)
        return (yield from self.model.perform(
            "rollback_completed", start(path, self.world, self.spec), failed="rollback_failed",
            on_failed=self._rollback_failed, path=path))

    def _rollback_failed(self, failed: RollbackFailed) -> None:
        if self.commander is not None:
            self.commander.on_rollback_failed(failed.where, failed.message)
