"""The one table of fault kinds: derived from the fault models, read by the loader and the
fault schedule."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from sim.errors import ScenarioError
from sim.scenario import faults
from sim.scenario.faults import FAULT_KINDS, FAULT_MODELS
from sim.scenario.loader import validate_scenario
from sim.world.faults import FaultSchedule

ONE_OF_EACH = {
    "error_spike": {"kind": "error_spike", "at": "1h", "error_rate": 0.5},
    "posthog_outage": {"kind": "posthog_outage", "at": "1h", "until": "2h"},
    "api_fault": {"kind": "api_fault", "service": "vercel"},
    "pulse_fault": {"kind": "pulse_fault", "fault": "timeout", "at": "1h"},
    "flag_migration": {"kind": "flag_migration", "at": "2h"},
    "report": {"kind": "report", "at": "1h", "trigger": "ui_bug"},
}


def test_every_fault_model_in_the_module_is_a_member_of_the_union() -> None:
    """Rule: a model with a ``kind`` defined in sim.scenario.faults but left out of
    ``Fault`` (so a scenario could never name it) is caught."""
    models = {cls for _, cls in inspect.getmembers(faults, inspect.isclass)
              if issubclass(cls, BaseModel) and "kind" in cls.model_fields}
    assert models == set(FAULT_MODELS)


def test_the_kinds_are_the_models_own_literals_in_union_order() -> None:
    """Rule: the table is derived from each model's ``kind`` Literal, one kind per model."""
    assert list(FAULT_KINDS) == ["error_spike", "posthog_outage", "api_fault", "pulse_fault",
                                 "flag_migration", "report"]
    assert list(FAULT_KINDS.values()) == list(FAULT_MODELS)


def test_an_unknown_kind_lists_the_tables_kinds() -> None:
    """Rule: the loader's message for an unknown kind is built from the table."""
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"name": "t", "faults": [{"kind": "meteor", "at": "1h"}]}, "t.yaml")
    assert str(info.value).endswith("unknown kind 'meteor'; allowed: "
                                    + ", ".join(FAULT_KINDS))


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_bad_field_of_each_kind_is_named_without_the_union_member(kind: str) -> None:
    """Rule: an error inside a fault names ``faults.0.<field>``, never the member's tag or
    class (which pydantic puts in the location)."""
    bad = {**ONE_OF_EACH[kind], "bogus": 1}
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"name": "t", "pulse": {}, "faults": [bad]}, "t.yaml")
    assert info.value.field == "faults.0.bogus"


def test_the_schedule_takes_every_kind() -> None:
    """Rule: each fault kind lands in the fault schedule (none is dropped on the floor)."""
    scenario = validate_scenario({"name": "t", "pulse": {}, "faults": list(ONE_OF_EACH.values())},
                                 "t.yaml")
    schedule = FaultSchedule(scenario)
    taken = [*(f for _, f in schedule.spikes), *schedule.api_faults, *schedule.pulse_faults,
             *schedule.migrations, *schedule.reports]
    assert len(schedule.outages) == 1
    assert {f.kind for f in taken} | {"posthog_outage"} == set(FAULT_KINDS)
