"""Env vars are baked into a build when it starts (Vite inlines VITE_* at build time)."""

from __future__ import annotations

FLAG = "VITE_FEATURE_CONTACTS_REDESIGN"


def _set_flag(backend, project, value: str) -> None:
    backend.create_project_env(project.id, FLAG, value, upsert=True)


def test_a_build_bakes_the_env_of_its_build_start_not_of_its_creation(clock, backend, world):
    """Created at 0, build starts at 10: an edit at 5 is in it, an edit at 20 is not."""
    dep = backend.create_deployment(world.project.id)
    assert dep.env is None  # QUEUED: nothing baked yet
    clock.set(5.0)
    _set_flag(backend, world.project, "false")
    clock.set(10.0)
    assert backend.get_deployment(dep.id).env == {FLAG: "false"}
    clock.set(20.0)
    _set_flag(backend, world.project, "true")
    clock.set(100.0)
    assert backend.production_deployment(world.project.id).env == {FLAG: "false"}


def test_changing_a_variable_changes_nothing_served(clock, backend, world):
    """Option A's first half: the env var flips, production still serves the old build."""
    _set_flag(backend, world.project, "false")
    assert backend.project_env(world.project.id) == {FLAG: "false"}
    clock.set(3600.0)
    assert backend.production_deployment(world.project.id).env == {FLAG: "true"}


def test_a_redeploy_serves_the_new_value_only_once_ready_and_aliased(clock, backend, world):
    """Option A in full: flip, redeploy production; the flag is off only at t+q+d."""
    clock.set(100.0)
    _set_flag(backend, world.project, "false")
    redeploy = backend.create_deployment(None, target="production",
                                         source_deployment_id=world.v2.id)
    assert redeploy.meta == world.v2.meta  # a redeploy keeps its source's commit/version
    clock.set(110.0)
    assert backend.get_deployment(redeploy.id).env == {FLAG: "false"}
    assert backend.production_deployment(world.project.id).env == {FLAG: "true"}
    clock.set(169.999)
    assert backend.production_deployment(world.project.id).id == world.v2.id
    clock.set(170.0)
    live = backend.production_deployment(world.project.id)
    assert (live.id, live.env) == (redeploy.id, {FLAG: "false"})


def test_a_preview_build_bakes_preview_variables(clock, backend, world):
    """Each build bakes the variables of its own target."""
    backend.create_project_env(world.project.id, "VITE_ROLLOUT_PERCENTAGE", "50",
                               target=["preview"])
    preview = backend.create_deployment(world.project.id, target=None)
    clock.set(10.0)
    assert backend.get_deployment(preview.id).env == {FLAG: "true", "VITE_ROLLOUT_PERCENTAGE": "50"}
    assert "VITE_ROLLOUT_PERCENTAGE" not in backend.project_env(world.project.id)
