"""Fake Pulse (the CRM the app syncs contacts from): a directory of the scenario's size,
drawn from the run's ``pulse`` stream; in a drill only when the scenario has a Pulse
sync. Pulse has its own fault control plane (``/_fake/faults``)."""

from __future__ import annotations

from fakes.common.descriptor import RunbookScenario, Start, Vendor
from fakes.pulse.backend import PulseBackend


def create(start: Start) -> PulseBackend:
    seed = int(start.streams("pulse").integers(0, 2**31))
    pulse = start.scenario.pulse
    if pulse is None:
        return PulseBackend(start.clock, seed)
    return PulseBackend(start.clock, seed, contacts=pulse.contacts)


def env(pulse: PulseBackend, url: str) -> dict[str, str]:
    return {"PULSE_API_URL": url + "/v1", "PULSE_API_KEY": min(pulse.api_keys)}


def has_sync(scenario: RunbookScenario) -> bool:
    return scenario.pulse is not None


PULSE = Vendor("pulse", create, env, in_drill=has_sync, own_faults=True)
