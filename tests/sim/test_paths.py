"""The rollback-path registry: one complete entry per path, read by every part of the
harness (scenario validation, the drills' starters, reports, comms, bounds)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, get_args

import pytest

from rollout.incident import comms
from rollout.incident.comms import RollbackAction
from rollout.rollback.runbook import RunbookEstimate
from sim.drills.paths import GIT_PATHS, STARTERS, unmatched
from sim.errors import ScenarioError
from sim.results.bounds import rollback
from sim.scenario.loader import load_scenario, validate_scenario
from sim.scenario.paths import PATH_NAMES, PATHS, ManualSteps, PathSpec, _registry, path_spec
from sim.scenario.responder import Responder

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
BASE = {"name": "t", "faults": [{"kind": "error_spike", "at": "1h", "error_rate": 0.5}]}
SECTIONS = {"database": {}, "pulse": {}}


def entry(**changes: Any) -> dict[str, Any]:
    """The fields of a complete entry, with ``changes``."""
    fields = {"name": "new-path", "platform": None, "section": None, "uses_app_repo": False,
              "estimate": RunbookEstimate(30.0, 120.0, "Option A"),
              "comms": RollbackAction("Something initiated", 2),
              "bound": ManualSteps(steps=2, then=None)}
    return {**fields, **changes}


def rollback_actions(path: str) -> tuple[list[tuple[bool, str]], str]:
    return comms.rollback_actions(PATHS[path].comms)


def test_rollback_actions_follow_the_runbooks_times_per_option() -> None:
    """Rule: the ETA is the runbook's time to rollback: A 2 min, B 5 min, C 10 min."""
    assert rollback_actions("posthog-flag-disable")[1] == "2 minutes"
    assert rollback_actions("vercel-rollback")[1] == "5 minutes"
    assert rollback_actions("git-revert")[1] == "10 minutes"
    actions, _ = rollback_actions("vercel-rollback")
    assert actions == [(True, "Rollback to previous version initiated (vercel rollback)")]


def test_a_complete_entry_is_accepted() -> None:
    """Rule: an entry with every field given is a PathSpec (the fixture is complete)."""
    assert PathSpec(**entry()).name == "new-path"


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(PathSpec)])
def test_an_entry_missing_any_field_is_refused(field: str) -> None:
    """Rule: no field has a default — an entry without its estimate, its comms description,
    its bound model (None: no closed form) or any other field cannot be built."""
    fields = entry()
    del fields[field]
    with pytest.raises(TypeError, match=field):
        PathSpec(**fields)


@pytest.mark.parametrize("changes", [
    {"estimate": None}, {"comms": None}, {"comms": "Flag off"}, {"estimate": (30, 120, "A")},
    {"platform": "heroku"}, {"section": "ci"}, {"name": "Bad Name"}, {"name": ""},
    {"bound": 2},
])
def test_an_entry_with_a_malformed_field_is_refused(changes: dict[str, Any]) -> None:
    """Rule: a placeholder (None, a bare tuple or string) is not an estimate or a comms
    description, and platforms, sections and names are the known ones."""
    with pytest.raises(ValueError):
        PathSpec(**entry(**changes))


@pytest.mark.parametrize("build", [
    lambda: RunbookEstimate(120.0, 30.0, "Option A"), lambda: RunbookEstimate(30.0, 120.0, " "),
    lambda: ManualSteps(steps=0, then=None), lambda: ManualSteps(steps=2, then="rebuild"),
])
def test_an_estimate_or_a_bound_model_that_cannot_be_right_is_refused(build: Any) -> None:
    """Rule: an estimate is 0 <= low <= high with its quote; a bound model takes >= 1 step
    and a platform time the bounds know."""
    with pytest.raises(ValueError):
        build()


def test_a_path_registered_twice_is_refused() -> None:
    """Rule: one entry per path name."""
    with pytest.raises(ValueError, match="new-path"):
        _registry(PathSpec(**entry()), PathSpec(**entry()))


def test_every_registered_path_has_a_starter_and_no_starter_is_orphaned() -> None:
    """Rule: the drill side is keyed by exactly the registry's names."""
    assert unmatched(PATHS, STARTERS) is None
    assert "without a starter: new-path" in str(unmatched([*PATHS, "new-path"], STARTERS))
    assert "for no registered path: old-path" in str(unmatched(PATHS, [*STARTERS, "old-path"]))


def test_scenarios_allow_exactly_the_registered_paths() -> None:
    """Rule: ``responder.path`` and ``fallback_path`` take the registry's names, in order,
    and an unknown path's error lists them."""
    assert get_args(Responder.model_fields["path"].annotation) == PATH_NAMES
    assert all(Responder(fallback_path=name).fallback_path == name for name in PATH_NAMES)
    with pytest.raises(ScenarioError) as info:
        validate_scenario({**BASE, "responder": {"path": "pray"}}, "t.yaml")
    assert all(f"'{name}'" in str(info.value) for name in PATH_NAMES)


@pytest.mark.parametrize("name", PATH_NAMES)
def test_each_path_is_refused_without_what_its_entry_says_it_needs(name: str) -> None:
    """Rule: scenario validation reads the entry: its platform, its section."""
    spec = PATHS[name]
    platform = spec.platform or "vercel"
    data = {**BASE, "world": {"platform": platform}, "responder": {"path": name}}
    if spec.section:
        data[spec.section] = SECTIONS[spec.section]
    assert validate_scenario(data, "t.yaml").responder.path == name
    if spec.platform is not None:
        other = "netlify" if spec.platform != "netlify" else "vercel"
        with pytest.raises(ScenarioError, match=r"needs world\.platform"):
            validate_scenario({**data, "world": {"platform": other}}, "t.yaml")
    if spec.section is not None:
        del data[spec.section]
        with pytest.raises(ScenarioError, match=f"needs a {spec.section} section"):
            validate_scenario(data, "t.yaml")


def test_git_paths_are_the_entries_that_use_the_app_repo() -> None:
    """Rule: the drill attaches the app repo and CI for exactly those entries."""
    assert GIT_PATHS == ("git-revert", "git-force-push-tag")
    assert set(GIT_PATHS) == {n for n, s in PATHS.items() if s.uses_app_repo}


@pytest.mark.parametrize("name", PATH_NAMES)
def test_each_paths_bound_follows_its_entry(name: str) -> None:
    """Rule: the analytic rollback bound is the entry's manual steps, or no closed form."""
    spec = PATHS[name]
    data = {**BASE, "world": {"platform": spec.platform or "vercel"}, "responder": {"path": name}}
    if spec.section:
        data[spec.section] = SECTIONS[spec.section]
    bound = rollback(validate_scenario(data, "t.yaml"))
    if spec.bound is None:
        assert bound.how == f"no closed form for path {name}"
    else:
        assert bound.how.startswith(f"{spec.bound.steps} manual steps")


@pytest.mark.parametrize("name", PATH_NAMES)
def test_every_registered_path_has_a_catalog_scenario_and_a_golden(name: str) -> None:
    """Rule: a path is drilled by at least one scenario in scenarios/, which has a golden."""
    drilled = [p for p in sorted((ROOT / "scenarios").glob("*.yaml"))
               if load_scenario(p).responder.path == name]
    assert drilled, f"no scenario in scenarios/ takes {name}"
    assert any((GOLDEN / f"{p.stem}.json").exists() for p in drilled)


def test_looking_up_an_unregistered_path_names_the_registered_ones() -> None:
    """Rule: a lookup never falls back silently."""
    with pytest.raises(KeyError, match="registered: posthog-flag-disable"):
        path_spec("pray")
    with pytest.raises(KeyError):
        path_spec(None)
