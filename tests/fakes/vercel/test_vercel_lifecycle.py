"""Deployment lifecycles are derived from the clock alone (queue 10 s, build 60 s here)."""

from __future__ import annotations

import pytest

from fakes.common.clock import ManualClock, to_ms
from fakes.vercel.backend import VercelBackend
from fakes.vercel.errors import BadRequest, NotFound
from fakes.vercel.lifecycle import ReadyState


def test_states_change_at_exactly_t_plus_q_and_t_plus_q_plus_d(clock, backend, world):
    """Created at t=100: QUEUED until 110, BUILDING until 170, READY from 170 on."""
    clock.set(100.0)
    dep = backend.create_deployment(world.project.id)
    for at, state in [(100.0, "QUEUED"), (109.999, "QUEUED"), (110.0, "BUILDING"),
                      (169.999, "BUILDING"), (170.0, "READY")]:
        clock.set(at)
        assert backend.get_deployment(dep.id).state == state, at


def test_alias_moves_at_ready_time_even_when_nobody_looked(clock, backend, world):
    """Jumping far past READY still records the swap at t+q+d, not at the look."""
    dep = backend.create_deployment(world.project.id)
    clock.set(5000.0)
    assert backend.production_deployment(world.project.id).id == dep.id
    assert world.project.alias_history[-1].at == 70.0
    assert dep.ended_at == 70.0
    assert [(e.at, e.state) for e in dep.events] == [
        (0.0, ReadyState.QUEUED), (10.0, ReadyState.BUILDING), (70.0, ReadyState.READY)]


def test_a_failed_build_ends_in_error_and_leaves_production_alone(clock, world):
    """build_fails → ERROR at t+q+d; the alias keeps serving the previous deployment."""
    backend = VercelBackend(clock, build_time=lambda: 30.0, build_fails=lambda: True)
    project = backend.create_project("contacts-web")
    old = backend.create_deployment(project.id, ready_at=-1.0)
    broken = backend.create_deployment(project.id)
    clock.set(30.0)
    assert backend.get_deployment(broken.id).state is ReadyState.ERROR
    assert broken.error_message
    assert backend.production_deployment(project.id).id == old.id


def test_cancel_stops_a_build_and_its_scheduled_ready_never_fires(clock, backend, world):
    """CANCELED is final: the READY due at t+q+d is skipped, the alias stays put."""
    dep = backend.create_deployment(world.project.id)
    clock.set(20.0)
    assert backend.cancel_deployment(dep.id).state is ReadyState.CANCELED
    clock.set(100.0)
    assert backend.get_deployment(dep.id).state is ReadyState.CANCELED
    assert backend.production_deployment(world.project.id).id == world.v2.id
    with pytest.raises(BadRequest):
        backend.cancel_deployment(world.v2.id)  # READY cannot be canceled


def test_next_transition_at_names_the_next_due_time(clock, backend, world):
    """The simulation can sleep until exactly the next transition."""
    assert backend.next_transition_at() is None
    backend.create_deployment(world.project.id)
    assert backend.next_transition_at() == 10.0
    clock.set(10.0)
    assert backend.next_transition_at() == 70.0
    clock.set(70.0)
    assert backend.next_transition_at() is None


def test_seeded_deployments_take_the_alias_in_ready_order_whatever_the_seeding_order(clock):
    """Seeding the newer deployment first must not let the older one take production."""
    backend = VercelBackend(clock)
    project = backend.create_project("contacts-web")
    newer = backend.create_deployment(project.id, ready_at=-100.0)
    older = backend.create_deployment(project.id, ready_at=-900.0)
    assert backend.production_deployment(project.id).id == newer.id
    assert older.state is ReadyState.READY
    listed = backend.list_deployments(project.id)
    assert [d.id for d in listed] == [newer.id, older.id]


def test_seeding_draws_nothing_from_the_samplers(clock):
    """ready_at bypasses build/queue samplers, so seeding never shifts a seeded stream."""
    draws: list[str] = []
    backend = VercelBackend(clock, build_time=lambda: draws.append("b") or 60.0,
                            queue_time=lambda: draws.append("q") or 0.0)
    project = backend.create_project("contacts-web")
    backend.create_deployment(project.id, ready_at=-10.0)
    assert draws == []
    backend.create_deployment(project.id)
    assert draws == ["q", "b"]


def test_ids_are_reproducible_across_backends_and_resets():
    """Ids come from counters, not randomness: the same calls mint the same ids."""
    def mint(backend: VercelBackend) -> list[str]:
        project = backend.create_project("contacts-web", env={"A": "1"})
        dep = backend.create_deployment(project.id)
        return [project.id, dep.id, dep.url, next(iter(project.env_vars))]

    first = VercelBackend(ManualClock())
    ids = mint(first)
    assert ids == mint(VercelBackend(ManualClock()))
    first.reset()
    assert mint(first) == ids
    assert ids[0].startswith("prj_") and ids[1].startswith("dpl_")
    assert ids[2].startswith("contacts-web-") and ids[2].endswith(".vercel.app")


def test_production_deployment_of_an_unknown_or_empty_project_is_not_found(backend):
    """No project, or a project that never went live: NotFound, not None."""
    with pytest.raises(NotFound):
        backend.production_deployment("prj_missing")
    project = backend.create_project("empty")
    with pytest.raises(NotFound):
        backend.production_deployment(project.id)


def test_list_filters_by_target_state_and_paginates_with_until(clock, backend, world):
    """Newest first; target/state filters; ``until`` (ms, exclusive) pages back."""
    preview = backend.create_deployment(world.project.id, target=None)
    prod = backend.list_deployments(world.project.id, target="production")
    assert [d.id for d in prod] == [world.v2.id, world.v1.id]
    assert [d.id for d in backend.list_deployments(world.project.id, target="preview")] \
        == [preview.id]
    assert [d.id for d in backend.list_deployments(state="QUEUED")] == [preview.id]
    page1 = backend.list_deployments(world.project.id, limit=2)
    assert [d.id for d in page1] == [preview.id, world.v2.id]
    page2 = backend.list_deployments(world.project.id, limit=2,
                                     until=to_ms(clock, page1[-1].created))
    assert [d.id for d in page2] == [world.v1.id]
