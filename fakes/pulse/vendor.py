"""Fake Pulse (the CRM the app syncs contacts from): a directory of the scenario's size,
drawn from the run's ``pulse`` stream; in a drill only when the scenario has a Pulse
sync. Pulse has its own fault control plane (``/_fake/faults``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.common.descriptor import RunbookScenario, Start, Vendor
from fakes.pulse.backend import DEFAULT_API_KEY, PulseBackend

if TYPE_CHECKING:
    from fastapi import FastAPI


def create(start: Start) -> PulseBackend:
    seed = int(start.streams("pulse").integers(0, 2**31))
    pulse = start.scenario.pulse
    if pulse is None:
        return PulseBackend(start.clock, seed)
    return PulseBackend(start.clock, seed, contacts=pulse.contacts)


def app(backend: PulseBackend, live: bool) -> FastAPI:
    from fakes.pulse.router import build_app

    return build_app(backend)


def env(pulse: PulseBackend, url: str) -> dict[str, str]:
    return {"PULSE_API_URL": url + "/v1", "PULSE_API_KEY": DEFAULT_API_KEY}


def has_sync(scenario: RunbookScenario) -> bool:
    return scenario.pulse is not None


PULSE = Vendor("pulse", create, app, env, in_drill=has_sync, own_faults=True)
