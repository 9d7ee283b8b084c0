"""Fault injection: what breaks when, as the scenario says.

Error spikes hit the Contacts page (the new page, or the old one too) of given
releases; a PostHog outage makes browsers' flags undefined; API faults make a vendor's
API fail (installed into that fake's fault injector). Traffic is drawn per tick, so an
error spike or outage starts with the first tick at or after its ``at``; that effective
onset is what the run measures detection from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple, TypeVar

from fakes.common.faults import FaultRule
from sim.scenario.faults import (
    ApiFault,
    ErrorSpike,
    FlagMigration,
    PostHogOutage,
    PulseFault,
    Report,
)
from sim.scenario.model import Scenario

Window = tuple[float, float]
F = TypeVar("F")


def of_kind(faults: Iterable[object], model: type[F]) -> list[F]:
    """The faults of one kind (one model of ``sim.scenario.faults``), in scenario order."""
    return [f for f in faults if isinstance(f, model)]


class Hits(NamedTuple):
    """What breaks each page of the served release in one tick (None: nothing)."""

    old: ErrorSpike | None
    new: ErrorSpike | None

    def any(self) -> ErrorSpike | None:
        return self.new or self.old


class FaultSchedule:
    """The scenario's faults on the tick grid."""

    def __init__(self, scenario: Scenario) -> None:
        tick = scenario.tick
        self.default_releases = (scenario.world.current.version,)
        faults = scenario.faults
        self.spikes = [(self._window(f.at, f.until, tick), f)
                       for f in of_kind(faults, ErrorSpike)]
        self.outages = [self._window(f.at, f.until, tick) for f in of_kind(faults, PostHogOutage)]
        self.api_faults = of_kind(faults, ApiFault)
        self.pulse_faults = of_kind(faults, PulseFault)
        self.migrations = of_kind(faults, FlagMigration)
        self.reports = of_kind(faults, Report)
        self.pulse_onset = min((self._grid(f.at, tick) for f in self.pulse_faults), default=None)

    def _window(self, at: float, until: float | None, tick: float) -> Window:
        return (self._grid(at, tick), self._grid(until, tick) if until is not None else math.inf)

    @staticmethod
    def _grid(t: float, tick: float) -> float:
        return math.ceil(round(t / tick, 9)) * tick

    def active(self, t: float, release: str, variant: str = "new") -> ErrorSpike | None:
        """The error spike hitting ``variant`` of ``release`` at ``t``, if any."""
        for (start, end), fault in self.spikes:
            if start <= t < end and variant in fault.variants \
                    and release in (fault.releases or self.default_releases):
                return fault
        return None

    def hits(self, t: float, release: str) -> Hits:
        """The error spikes hitting the old and the new page of ``release`` at ``t``."""
        return Hits(self.active(t, release, "old"), self.active(t, release, "new"))

    def posthog_reachable(self, t: float) -> bool:
        """False while a PostHog outage keeps browsers from loading flags."""
        return not any(start <= t < end for start, end in self.outages)

    def first_onset(self) -> float | None:
        """When the first error spike or Pulse fault starts (tick grid), or None."""
        starts = [start for (start, _), _ in self.spikes]
        if self.pulse_onset is not None:
            starts.append(self.pulse_onset)
        return min(starts, default=None)

    def rules_for(self, service: str) -> list[FaultRule]:
        """The fault-injector rules the scenario's API faults put on ``service``."""
        return [FaultRule(operation=f.operation, error_rate=f.error_rate, status=f.status,
                          message=f"injected {service} fault ({f.operation})",
                          active_from=f.at, active_until=f.until)
                for f in self.api_faults if f.service == service]
