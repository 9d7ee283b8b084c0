"""The scenario model: a drill file validated into one frozen ``Scenario``.

The engine accepts only a ``Scenario``; ``sim.scenario.loader`` turns a YAML file into one
(or one clear error naming the file and the field). The sections live beside this
module (``traffic``, ``deployment``, ``faults``, ``monitoring``, ``responder``,
``targets``, ``rollout``); here are the scenario itself and the rules that span sections:
what a rollback path needs (from the registry in ``sim.scenario.paths``), what a fault
needs, and what the rollout and staging drills need. Every default restates the runbook
or a vendor's documented behaviour; anything the model cannot know (how fast your team
decides, how long your build takes) is a field the scenario sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from sim.errors import ScenarioError
from sim.scenario.calibration import CalibratedInput
from sim.scenario.deployment import CISpec, DatabaseSpec, PulseSpec, World
from sim.scenario.faults import Fault
from sim.scenario.limits import MAX_NAME, MAX_SEED, check_dates, check_size
from sim.scenario.monitoring import Monitoring
from sim.scenario.paths import path_spec
from sim.scenario.responder import IncidentComms, Responder
from sim.scenario.rollout import RolloutPlan, StagingDrill
from sim.scenario.targets import Gate, Targets
from sim.scenario.traffic import FlagControl, Population, Traffic
from sim.scenario.units import Duration, _Frozen


class Scenario(_Frozen):
    """One drill: the world at the start, the traffic, the faults, who responds, targets."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=MAX_NAME)
    description: str = ""
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    start: datetime = datetime(2026, 1, 25, 14, 0, tzinfo=UTC)
    horizon: Duration = 6 * 3600.0
    tick: Duration = 10.0
    population: Population = Population()
    traffic: Traffic = Traffic()
    world: World = World()
    ci: CISpec = CISpec()
    database: DatabaseSpec | None = None
    pulse: PulseSpec | None = None
    incident: IncidentComms = IncidentComms()
    flag: FlagControl = FlagControl()
    faults: tuple[Fault, ...] = ()
    monitoring: Monitoring = Monitoring()
    responder: Responder = Responder()
    targets: Targets = Targets()
    gate: Gate = Gate()
    rollout: RolloutPlan | None = None
    staging: StagingDrill | None = None
    #: Provenance of calibrated inputs (``drill calibrate``); simulates nothing.
    calibration: tuple[CalibratedInput, ...] = ()

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # an offset that moves the date past year 1 or 9999
            raise ValueError("a date and time within years 1970–8999") from None

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        check_rollout(self)
        check_path(self)
        check_clock(self)
        check_faults(self)
        return self


def check_path(scenario: Scenario) -> None:
    """What the responder's rollback path needs (its registry entry): a section, a
    platform; raises ValueError naming the field."""
    path, platform = scenario.responder.path, scenario.world.platform
    spec = path_spec(path)
    if spec.section is not None and getattr(scenario, spec.section) is None:
        raise ValueError(f"responder.path: '{path}' needs a {spec.section} section")
    if spec.platform is not None and spec.platform != platform:
        raise ValueError(f"responder.path: '{path}' needs world.platform '{spec.platform}' "
                         f"(the app is deployed on {platform})")


def check_clock(scenario: Scenario) -> None:
    """The tick and horizon, the dates they span and the population they run over, within
    the documented limits (``sim.scenario.limits``); raises ValueError."""
    if scenario.tick <= 0:
        raise ValueError("tick: must be > 0 seconds")
    if scenario.horizon < scenario.tick:
        raise ValueError("horizon: must be at least one tick")
    if scenario.population.internal_users > scenario.population.users:
        raise ValueError("population.internal_users: cannot exceed population.users")
    check_size(scenario.horizon, scenario.tick, scenario.population.users)
    check_dates(scenario.start, scenario.horizon)


def check_faults(scenario: Scenario) -> None:
    """Each fault falls in the run and ends after it starts; a Pulse fault needs Pulse.
    Raises ValueError naming the field."""
    if any(f.kind == "pulse_fault" for f in scenario.faults) and scenario.pulse is None:
        raise ValueError("faults: a pulse_fault needs a pulse section")
    for i, fault in enumerate(scenario.faults):
        if fault.at >= scenario.horizon and fault.kind != "api_fault":
            raise ValueError(
                f"faults.{i}.at: must fall before the horizon ({scenario.horizon:g} s)")
        until = getattr(fault, "until", None)
        if until is not None and until <= fault.at:
            raise ValueError(f"faults.{i}.until: must be after faults.{i}.at")


def required_section(scenario: Scenario, name: str) -> Any:
    """The scenario's ``rollout`` or ``staging`` section, checked again (a drill may get a
    scenario changed with ``model_copy``, which skips validation); raises ScenarioError."""
    section = getattr(scenario, name)
    if section is None:
        raise ScenarioError(scenario.name, name, f"this drill needs a {name} section")
    try:
        check_rollout(scenario)
    except ValueError as exc:
        field_name, _, message = str(exc).partition(": ")
        raise ScenarioError(scenario.name, field_name, message) from None
    return section


def check_rollout(scenario: Scenario) -> None:
    """The rules that span sections; raises ValueError naming the field (for
    ``Scenario``'s model validator)."""
    plan, staging = scenario.rollout, scenario.staging
    if plan is not None and staging is not None:
        raise ValueError("staging: a scenario is a rollout drill or a staging drill, not both")
    if plan is None and staging is None:
        return
    if scenario.world.platform != "vercel":
        section = "rollout" if plan is not None else "staging"
        raise ValueError(f"world.platform: the {section} drill deploys on Vercel")
    if plan is None:
        return
    phases = [*plan.phases, *(plan.fix.phases if plan.fix else ())]
    for i, phase in enumerate(phases):
        where = f"rollout.phases.{i}" if i < len(plan.phases) else \
            f"rollout.fix.phases.{i - len(plan.phases)}"
        if scenario.flag.mode == "internal" and phase.exposure != "internal":
            raise ValueError(f"{where}.exposure: flag.mode 'internal' (the phase-1 form of "
                             "shouldShowNewContacts) can show the page to internal users only")
        if phase.look_every < scenario.tick:
            raise ValueError(f"{where}.look_every: must be at least one tick "
                             f"({scenario.tick:g} s)")
