"""Fault injection: which fault, if any, hits the new page of a given release at a time."""

from __future__ import annotations

import math

from sim.scenario import ErrorSpike, Scenario


class FaultSchedule:
    """The scenario's faults, with onset and end rounded to the tick grid.

    Traffic is drawn per tick, so a fault starts with the first tick at or after its
    ``at``; that effective onset is what the run measures detection from.
    """

    def __init__(self, scenario: Scenario) -> None:
        tick = scenario.tick
        self.default_releases = (scenario.world.current.version,)
        self.windows = [(self._grid(f.at, tick), self._grid(f.until, tick) if f.until is not None
                         else math.inf, f) for f in scenario.faults]

    @staticmethod
    def _grid(t: float, tick: float) -> float:
        return math.ceil(round(t / tick, 9)) * tick

    def active(self, t: float, release: str) -> ErrorSpike | None:
        """The fault hitting the new page of ``release`` at ``t``, if any."""
        for start, end, fault in self.windows:
            if start <= t < end and release in (fault.releases or self.default_releases):
                return fault
        return None

    def first_onset(self) -> float | None:
        """When the first fault starts (on the tick grid), or None without faults."""
        return min((start for start, _, _ in self.windows), default=None)
