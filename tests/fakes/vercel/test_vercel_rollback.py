"""Instant rollback and promote swap the production alias without a build, after
alias_propagation (2 s here), and a rollback stops auto-assignment until a promote."""

from __future__ import annotations

import pytest

from fakes.common.clock import to_ms
from fakes.vercel.errors import BadRequest, Conflict, NotFound


def test_rollback_moves_the_alias_only_after_propagation(clock, backend, world):
    """lastAliasRequest is in-progress at once; the alias moves at request + 2 s."""
    clock.set(100.0)
    backend.rollback_deployment(world.project.id, world.v1.id)
    assert world.project.last_alias_request == {
        "jobStatus": "in-progress", "requestedAt": to_ms(clock, 100.0),
        "toDeploymentId": world.v1.id, "fromDeploymentId": world.v2.id, "type": "rollback"}
    clock.set(101.999)
    assert backend.production_deployment(world.project.id).id == world.v2.id
    clock.set(102.0)
    assert backend.production_deployment(world.project.id).id == world.v1.id
    assert world.project.last_alias_request["jobStatus"] == "succeeded"
    assert world.project.alias_history[-1].at == 102.0


def test_after_a_rollback_new_production_builds_wait_for_a_promote(clock, backend, world):
    """Like Vercel: a rolled-back project does not auto-promote until promote."""
    backend.rollback_deployment(world.project.id, world.v1.id)
    assert world.project.auto_assign_production is False
    fix = backend.create_deployment(world.project.id)
    clock.set(70.0)
    assert backend.get_deployment(fix.id).state == "READY"
    assert backend.production_deployment(world.project.id).id == world.v1.id
    assert not fix.is_rollback_candidate  # staged: never served production
    backend.promote_deployment(world.project.id, fix.id)
    assert world.project.last_alias_request["type"] == "promote"
    clock.set(72.0)
    assert backend.production_deployment(world.project.id).id == fix.id
    assert world.project.auto_assign_production is True
    later = backend.create_deployment(world.project.id)
    clock.set(72.0 + 70.0)
    assert backend.production_deployment(world.project.id).id == later.id


def test_zero_propagation_swaps_at_once(clock, world):
    """alias_propagation=0 means the swap lands within the request."""
    from fakes.vercel.backend import VercelBackend

    backend = VercelBackend(clock, alias_propagation=0.0)
    project = backend.create_project("p")
    old = backend.create_deployment(project.id, ready_at=-10.0)
    backend.create_deployment(project.id, ready_at=-5.0)
    backend.rollback_deployment(project.id, old.id)
    assert backend.production_deployment(project.id).id == old.id


def test_rollback_refusals_have_vercel_shapes(clock, backend, world):
    """Current → 409; not READY → 400; unknown → 404; another in flight → 409."""
    with pytest.raises(Conflict, match="already the current production"):
        backend.rollback_deployment(world.project.id, world.v2.id)
    building = backend.create_deployment(world.project.id)
    with pytest.raises(BadRequest):
        backend.rollback_deployment(world.project.id, building.id)
    with pytest.raises(NotFound):
        backend.rollback_deployment(world.project.id, "dpl_nope")
    backend.rollback_deployment(world.project.id, world.v1.id)
    with pytest.raises(Conflict, match="in progress"):
        backend.promote_deployment(world.project.id, world.v2.id)
    other = backend.create_project("other")
    with pytest.raises(BadRequest):
        backend.rollback_deployment(other.id, world.v1.id)


@pytest.mark.parametrize("version", ["v1", "v9"])
def test_rollback_is_accepted_under_v1_and_v9(api, clock, world, version):
    """The CLI posts /v9/…/rollback/…, the SDK /v1/…; both answer 201 {} and the CLI's
    ?rollbackInfo=true poll sees in-progress, then succeeded."""
    pid, to = world.project.id, world.v1.id

    async def script(c):
        r = await c.post(f"/{version}/projects/{pid}/rollback/{to}?teamId=team_drill",
                         json={})
        before = (await c.get(f"/v9/projects/{pid}?rollbackInfo=true")).json()
        clock.advance(2.0)
        after = (await c.get(f"/v9/projects/{pid}?rollbackInfo=true")).json()
        return r, before, after

    r, before, after = api(script)
    assert (r.status_code, r.json()) == (201, {})
    assert before["lastAliasRequest"]["jobStatus"] == "in-progress"
    assert before["targets"]["production"]["id"] == world.v2.id
    assert after["lastAliasRequest"]["jobStatus"] == "succeeded"
    assert after["targets"]["production"]["id"] == to


def test_promote_answers_201_and_refusals_keep_their_status(api, clock, world):
    """POST /v10/…/promote → 201; promoting the live deployment → 409 conflict."""
    pid = world.project.id

    async def script(c):
        same = await c.post(f"/v10/projects/{pid}/promote/{world.v2.id}", json={})
        ok = await c.post(f"/v10/projects/{pid}/promote/{world.v1.id}", json={})
        return same, ok

    same, ok = api(script)
    assert same.status_code == 409
    assert same.json()["error"]["code"] == "conflict"
    assert ok.status_code == 201
