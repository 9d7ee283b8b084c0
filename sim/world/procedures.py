"""Running a ``rollout`` procedure in virtual time: the one SimPy driver every host uses.

A procedure (``rollout.steps``) yields ``Manual`` and ``Wait`` steps and makes its calls
in between; ``drive`` turns each step into a SimPy timeout of the length the caller's
``duration`` gives it and returns what the procedure returns. With a ``CallMeter`` the
calls between two steps are timed (``sim.world.latency``): their latency passes first,
then the step's own time; after the last call the procedure's result waits for its
response too. ``RollbackFailed`` (or any other error) propagates to the caller once the
failed call's round trip has passed; the caller journals it as it sees fit.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import nullcontext
from typing import Any

import simpy

from rollout.steps import Step
from sim.world.latency import CallMeter


def drive(env: simpy.Environment, procedure: Generator[Step, None, Any],
          duration: Callable[[Step], float],
          meter: CallMeter | None = None) -> Generator[simpy.Event, Any, Any]:
    """Run ``procedure`` to its end in ``env``'s time; returns its return value."""
    going, step = yield from _calls(env, meter, procedure)
    while going:
        yield env.timeout(duration(step))
        going, step = yield from _calls(env, meter, procedure)
    return step


def _calls(env: simpy.Environment, meter: CallMeter | None,
           procedure: Generator[Step, None, Any]) -> Generator[simpy.Event, Any, tuple[bool, Any]]:
    """Resume ``procedure`` up to its next step, then let its calls' latency pass (also
    when it ended or raised): (True, the step) or (False, what it returned)."""
    try:
        with meter.segment() if meter is not None else nullcontext():
            return True, procedure.send(None)
    except StopIteration as done:
        return False, done.value
    finally:
        owed = meter.settle() if meter is not None else 0.0
        if owed > 0:
            yield env.timeout(owed)
