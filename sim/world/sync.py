"""Scenario 3 in a drill: the app's Pulse sync job, its trigger, and the response actions.

The sync is ``rollout.app.pulse.service.PulseSyncService`` (the code the app runs) talking HTTP to
the fake Pulse; it runs every ``pulse.sync_interval`` while the *live build* has
``VITE_PULSE_SYNC_ENABLED`` not ``false`` (Vite bakes it in: turning it off takes a
redeploy). After each pass the runbook's Scenario 3 triggers are checked; the first time
they hold, the on-call responder is paged as for an alert. The response's actions are
the platform's real procedures (env var + redeploy, instant rollback) and the store's
restore from last night's snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from fakes.pulse.backend import DEFAULT_API_KEY
from rollout.app.pulse.client import PulseContactService
from rollout.app.pulse.mapping import DEFAULT_MAPPING
from rollout.app.pulse.response import Scenario3Actions, respond_to_sync_issue, scenario3_triggered
from rollout.app.pulse.store import InMemoryContactStore
from rollout.app.pulse.sync import SYNC_ENV, PulseSyncService
from rollout.rollback.platforms import vercel_instant_rollback, vercel_set_env
from rollout.steps import Procedure, Step, Wait
from sim.journal import Journal
from sim.scenario.deployment import PulseSpec
from sim.scenario.responder import Responder
from sim.world.fakes import World
from sim.world.procedures import drive

PULSE = "http://pulse.drill"


class SyncHost:
    """Runs the app's sync job in virtual time and pages the responder on Scenario 3."""

    def __init__(self, env: simpy.Environment, world: World, spec: PulseSpec, journal: Journal,
                 page: Callable[[dict[str, Any]], None]) -> None:
        self.env = env
        self.world = world
        self.spec = spec
        self.journal = journal
        self.page = page
        self.contacts = PulseContactService(world.http, PULSE, DEFAULT_API_KEY)
        self.store = InMemoryContactStore()
        self.sync = PulseSyncService(self.contacts, self.store, DEFAULT_MAPPING, self.enabled,
                                     now=lambda: float(env.now), page_size=spec.page_size)
        self.nightly: Any = None
        self.paged = False
        world.sync = self

    def enabled(self) -> bool:
        """What the live build says: the bundle's baked VITE_PULSE_SYNC_ENABLED."""
        build = self.world.live_build()
        return not build.down and self._baked() != "false"

    def _baked(self) -> str | None:
        d = self.world.vercel.production_deployment(self.world.project_id)
        return (d.env or {}).get(SYNC_ENV)

    def run(self) -> Generator[simpy.Event, Any, None]:
        while True:
            if self.enabled():
                yield from drive(self.env, self.sync.sync(), _wait_seconds)
                if self.nightly is None:
                    self.nightly = self.store.snapshot()  # the first good pass: a backup
                self._check()
            yield self.env.timeout(self.spec.sync_interval)

    def _check(self) -> None:
        triggered, reasons = scenario3_triggered(self.sync.get_sync_status())
        if triggered and not self.paged:
            self.paged = True
            self.journal.add("scenario3_triggered", reasons=list(reasons))
            self.page({"action": "critical", "data": {"metric_alert": {
                "title": "Scenario 3: Pulse sync failing", "id": "pulse-sync"}},
                "reasons": list(reasons)})

    def actions(self, spec: Responder) -> Scenario3Actions:
        """The responder's tools, each the real procedure on the platform fakes."""
        w = self.world
        return Scenario3Actions(
            disable_sync=lambda: vercel_set_env(w.vercel_api(), w.project_id, SYNC_ENV,
                                                "false", spec.poll_interval),
            enable_sync=lambda: vercel_set_env(w.vercel_api(), w.project_id, SYNC_ENV,
                                               "true", spec.poll_interval),
            use_mock_data=self._use_mock_data,
            full_rollback=lambda: vercel_instant_rollback(w.vercel_api(), w.project_id),
            restore_database=self._restore)

    def _use_mock_data(self) -> dict[str, Any]:
        self.world.mock_data = True
        self.journal.add("mock_data_enabled")
        return {"mock_data": True}

    def _restore(self) -> dict[str, Any]:
        if self.nightly is not None:
            self.store.restore(self.nightly)
        self.journal.add("contacts_restored", from_snapshot=self.nightly is not None)
        return {"restored": self.nightly is not None}

    def procedure(self, spec: Responder) -> Procedure:
        return respond_to_sync_issue(self.sync, self.contacts, self.actions(spec),
                                     poll=spec.poll_interval)


def _wait_seconds(step: Step) -> float:
    """The sync job runs unattended: only its waits take time."""
    return step.seconds if isinstance(step, Wait) else 0.0
