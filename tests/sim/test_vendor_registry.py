"""The vendor registry (``fakes.vendors.VENDORS``) and the drill world built from it agree:
each vendor is a typed ``World`` attribute, stood up exactly when a drill has it, and
its descriptor loads no web framework until its app is built."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

from fakes.common.clock import ManualClock
from fakes.vendors import VENDORS
from sim.rng import Streams
from sim.scenario.faults import ApiFault
from sim.scenario.model import Scenario
from sim.world.fakes import World, drill_vendors, seed_world

ROOT = Path(__file__).resolve().parents[2]


def test_every_registry_vendor_is_a_world_attribute_named_after_it() -> None:
    """Rule: the drill world has one field per registry vendor, under the vendor's name."""
    names = {f.name for f in dataclasses.fields(World)}
    assert {v.name for v in VENDORS} <= names


def test_api_faults_go_in_front_of_exactly_the_vendors_a_scenario_may_target() -> None:
    """Rule: ``Vendor.api_faults`` marks the services an ``api_fault`` names, no more."""
    services = set(typing.get_args(ApiFault.model_fields["service"].annotation))
    assert {v.name for v in VENDORS if v.api_faults} == services


@pytest.mark.parametrize("platform", ["vercel", "netlify", "docker"])
def test_a_drill_world_has_the_vendors_its_platform_needs(platform: str) -> None:
    """Rule: Netlify and Docker are stood up only on their platform, Pulse only with a
    Pulse sync; every vendor a drill has is seeded on the drill's one clock."""
    scenario = Scenario.model_validate({"name": "t", "world": {"platform": platform}})
    clock = ManualClock()
    world = seed_world(scenario, clock, Streams(7), ["u1"], None)
    try:
        present = {v.name for v in VENDORS if world.backend(v) is not None}
        assert present == {v.name for v in drill_vendors(scenario)}
        assert {"netlify", "docker"} & present == ({platform} - {"vercel"})
        assert "pulse" not in present
        assert all(world.backend(v).clock is clock for v in drill_vendors(scenario))
    finally:
        world.close()


def test_descriptors_import_their_router_only_inside_the_app_factory() -> None:
    """Rule: a ``fakes/<vendor>/vendor.py`` imports no router and no web framework at
    module level (reading the registry must not load FastAPI)."""
    for path in sorted(ROOT.glob("fakes/*/vendor.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert not module.endswith(".router"), path
                assert module.split(".")[0] not in {"fastapi", "starlette"}, path
