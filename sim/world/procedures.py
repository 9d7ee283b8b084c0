"""Running a ``rollout`` procedure in virtual time: the one SimPy driver every host uses.

A procedure (``rollout.steps``) yields ``Manual`` and ``Wait`` steps and makes its calls
in between; ``drive`` turns each step into a SimPy timeout of the length the caller's
``duration`` gives it and returns what the procedure returns. ``RollbackFailed`` (or any
other error) propagates to the caller, which journals it as it sees fit.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from rollout.steps import Step


def drive(env: simpy.Environment, procedure: Generator[Step, None, Any],
          duration: Callable[[Step], float]) -> Generator[simpy.Event, Any, Any]:
    """Run ``procedure`` to its end in ``env``'s time; returns its return value."""
    try:
        step = next(procedure)
        while True:
            yield env.timeout(duration(step))
            step = procedure.send(None)
    except StopIteration as done:
        return done.value
