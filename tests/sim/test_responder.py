"""The one responder model (``sim.drills.responder.ResponderModel``): how long deciding,
each manual step and escalating take, drawn in the order things happen."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime

import numpy as np
import simpy

from rollout.steps import Manual, Procedure, RollbackFailed, Wait
from sim.drills.responder import ResponderModel
from sim.journal import Journal
from sim.scenario.model import Responder
from sim.world.clock import SimClock

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def model(spec: Responder, seed: int = 3) -> ResponderModel:
    env = simpy.Environment()
    return ResponderModel(env, spec, Journal(SimClock(env, EPOCH)), np.random.default_rng(seed))


def test_a_human_draws_decision_step_and_escalation_from_one_stream_in_order() -> None:
    """Each draw takes the next number of the responder's stream, whatever asks for it."""
    spec = Responder(mode="human")
    m, rng = model(spec), np.random.default_rng(3)
    drawn = [m.decision_delay(), m.step_duration(Manual("open the dashboard")),
             m.escalation_delay(), m.investigation_time()]
    expected = [spec.decision_delay.sample(rng), spec.step_time.sample(rng),
                spec.escalation_delay.sample(rng), spec.investigation_time.sample(rng)]
    assert drawn == expected


def test_automation_decides_after_its_latency_and_does_manual_steps_instantly() -> None:
    """Automated: no decision draw, manual steps take no time but are still journaled."""
    m = model(Responder(mode="automated", automation_latency=2.5))
    assert m.decision_delay() == 2.5
    assert m.step_duration(Manual("click")) == 0.0
    assert [r.kind for r in m.journal.records] == ["manual_step"]


def test_a_wait_takes_its_seconds_and_draws_nothing() -> None:
    """Waits (polling, propagation) are not the responder's: no draw, no journal line."""
    m = model(Responder(mode="human"))
    assert m.step_duration(Wait(7, "poll")) == 7.0
    assert m.journal.records == []
    assert m.rng.random() == np.random.default_rng(3).random()


def _failing() -> Procedure:
    yield Wait(1.0, "poll")
    raise RollbackFailed("promote", "HTTP 500")


def test_perform_journals_where_a_procedure_failed_and_reports_it() -> None:
    """A failed procedure is journaled as ``failed`` with where and why, and handed on."""
    m, seen = model(Responder(mode="automated")), list[RollbackFailed]()

    def process() -> Generator[simpy.Event, object, None]:
        ok = yield from m.perform("rollback_completed", _failing(), failed="rollback_failed",
                                  on_failed=seen.append, path="vercel-rollback")
        assert ok is False

    m.env.process(process())
    m.env.run()
    record = m.journal.first("rollback_failed")
    assert record is not None and record.t == 1.0
    assert record.data == {"path": "vercel-rollback", "where": "promote", "error": "HTTP 500"}
    assert [f.where for f in seen] == ["promote"]
