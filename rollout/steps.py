"""The vocabulary of a procedure: what a rollback step asks of whoever runs it.

Procedures in ``rollout.rollback.platforms`` are generators. They make their HTTP calls directly and
``yield`` a step when time has to pass: ``Manual`` (a person does something by hand:
the runner decides how long that takes) or ``Wait`` (polling, propagation). A drill runs
them in virtual time; ``run_blocking`` runs them for real with ``time.sleep``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Manual:
    """A step a person performs by hand (open a dashboard, type a command)."""

    what: str


@dataclass(frozen=True)
class Wait:
    """Let ``seconds`` pass before going on (polling interval, propagation)."""

    seconds: float
    why: str


Step = Manual | Wait
Procedure = Generator[Step, None, dict[str, Any]]


class RollbackFailed(Exception):
    """A rollback procedure could not complete; ``where`` names the step that failed."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def run_blocking(procedure: Procedure,
                 manual: Callable[[Manual], None] = lambda step: None) -> dict[str, Any]:
    """Run ``procedure`` in real time: waits sleep, manual steps call ``manual``."""
    try:
        step = next(procedure)
        while True:
            if isinstance(step, Wait):
                time.sleep(step.seconds)
            else:
                manual(step)
            step = procedure.send(None)
    except StopIteration as stop:
        return dict(stop.value or {})
