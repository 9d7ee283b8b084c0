"""Deploy lifecycles are derived from the clock alone (queue 10 s, build 60 s here)."""

from __future__ import annotations

import re
import time

import pytest

from fakes.common.clock import ManualClock
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.errors import NotFound, Unprocessable
from fakes.netlify.lifecycle import DeployState


def test_states_change_at_exactly_t_plus_q_and_t_plus_q_plus_d(clock, backend, world):
    """Created at t=100: enqueued at once, building at 110, ready from 170 on."""
    clock.set(100.0)
    dep = backend.create_deploy(world.site.id)
    for at, state in [(100.0, "enqueued"), (109.999, "enqueued"), (110.0, "building"),
                      (169.999, "building"), (170.0, "ready")]:
        clock.set(at)
        assert backend.get_deploy(dep.id).state == state, at


def test_publishes_at_ready_time_even_when_nobody_looked(clock, backend, world):
    """Jumping far past ready still records the publish at t+q+d, not at the look."""
    dep = backend.create_deploy(world.site.id)
    clock.set(5000.0)
    assert backend.published_deploy(world.site.id).id == dep.id
    assert dep.published_at == 70.0 and dep.ended_at == 70.0 and dep.deploy_time == 60
    assert world.site.publish_history[-1].at == 70.0
    assert [(e.at, e.state) for e in dep.events] == [
        (0.0, DeployState.NEW), (0.0, DeployState.ENQUEUED), (10.0, DeployState.BUILDING),
        (70.0, DeployState.READY)]


def test_a_failed_build_ends_in_error_and_leaves_the_published_deploy(clock):
    """build_fails → error at t+q+d with Netlify's message; the site keeps serving."""
    backend = NetlifyBackend(clock, build_time=lambda: 30.0, build_fails=lambda: True)
    site = backend.create_site("contacts-web")
    old = backend.create_deploy(site.id, ready_at=-1.0)
    broken = backend.create_deploy(site.id)
    clock.set(30.0)
    assert backend.get_deploy(broken.id).state is DeployState.ERROR
    assert broken.error_message == "Build script returned non-zero exit code: 2"
    assert backend.published_deploy(site.id).id == old.id


def test_cancel_ends_a_build_in_error_and_its_ready_never_fires(clock, backend, world):
    """A canceled deploy is `error` ("Canceled build"); ready deploys cannot be canceled."""
    dep = backend.create_deploy(world.site.id)
    clock.set(20.0)
    assert backend.cancel_site_deploy(dep.id).state is DeployState.ERROR
    assert dep.error_message == "Canceled build"
    clock.set(100.0)
    assert backend.get_deploy(dep.id).state is DeployState.ERROR
    assert backend.published_deploy(world.site.id).id == world.v2.id
    with pytest.raises(Unprocessable):
        backend.cancel_site_deploy(world.v2.id)


def test_next_transition_at_names_the_next_due_time(clock, backend, world):
    """The simulation can sleep until exactly the next transition."""
    assert backend.next_transition_at() is None
    backend.create_deploy(world.site.id)
    assert backend.next_transition_at() == 10.0
    clock.set(10.0)
    assert backend.next_transition_at() == 70.0
    clock.set(70.0)
    assert backend.next_transition_at() is None


def test_seeded_deploys_publish_in_ready_order_whatever_the_seeding_order(clock):
    """Seeding the newer deploy first must not let the older one take over."""
    backend = NetlifyBackend(clock)
    site = backend.create_site("contacts-web")
    newer = backend.create_deploy(site.id, ready_at=-100.0)
    older = backend.create_deploy(site.id, ready_at=-900.0)
    assert backend.published_deploy(site.id).id == newer.id
    assert older.state is DeployState.READY and older.published_at is None
    assert [d.id for d in backend.list_site_deploys(site.id)] == [newer.id, older.id]


def test_seeding_draws_nothing_from_the_samplers(clock):
    """ready_at bypasses the build/queue samplers, so seeding never shifts a stream."""
    draws: list[str] = []
    backend = NetlifyBackend(clock, build_time=lambda: draws.append("b") or 60.0,
                             queue_time=lambda: draws.append("q") or 0.0)
    site = backend.create_site("contacts-web")
    backend.create_deploy(site.id, ready_at=-10.0)
    assert draws == []
    backend.create_deploy(site.id)
    assert draws == ["q", "b"]


def test_ids_are_reproducible_and_shaped_like_netlify_ids():
    """Counters and hashing, no randomness: UUID-shaped site ids, 24-hex deploy ids."""
    def mint(backend: NetlifyBackend) -> list[str]:
        site = backend.create_site("contacts-web")
        dep = backend.create_deploy(site.id)
        var = backend.create_env_vars("drill", [{"key": "A", "values": [{"value": "1"}]}],
                                      site_id=site.id)[0]
        return [site.id, dep.id, dep.build_id, var.values[0].id, site.account_id]

    first = NetlifyBackend(ManualClock())
    ids = mint(first)
    assert ids == mint(NetlifyBackend(ManualClock()))
    first.reset()
    assert mint(first) == ids
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(uuid, ids[0]) and re.fullmatch(uuid, ids[3])
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in (ids[1], ids[2], ids[4]))
    assert len(set(ids)) == len(ids)


def test_published_deploy_of_an_unknown_or_empty_site_is_not_found(backend):
    """No site, or a site that never published: NotFound, not None."""
    with pytest.raises(NotFound):
        backend.published_deploy("no-such-site")
    site = backend.create_site("empty")
    with pytest.raises(NotFound):
        backend.published_deploy(site.id)


def test_published_deploy_is_cheap_when_nothing_is_due(clock, backend, world, monkeypatch):
    """The simulation asks every tick: with nothing due, no transition code runs and
    20,000 asks take well under a second."""
    backend.create_deploy(world.site.id)  # pending transitions at 0, 10 and 70
    clock.set(5.0)
    backend.published_deploy(world.site.id)

    def boom(_due):
        raise AssertionError("a transition was applied")

    monkeypatch.setattr(backend, "_apply", boom)
    started = time.perf_counter()
    for _ in range(20_000):
        backend.published_deploy(world.site.id)
    assert time.perf_counter() - started < 1.0


def test_list_filters_by_context_state_branch_and_pages(clock, backend, world):
    """Newest first; production/state/branch/latest-published filters; page/per_page."""
    preview = backend.create_deploy(world.site.id, context="deploy-preview", branch="feat",
                                    publish=False)
    site = world.site.id
    assert [d.id for d in backend.list_site_deploys(site, production=True)] \
        == [world.v2.id, world.v1.id]
    assert [d.id for d in backend.list_site_deploys(site, deploy_previews=True)] == [preview.id]
    assert [d.id for d in backend.list_site_deploys(site, state="enqueued")] == [preview.id]
    assert [d.id for d in backend.list_site_deploys(site, branch="feat")] == [preview.id]
    assert [d.id for d in backend.list_site_deploys(site, latest_published=True)] \
        == [world.v2.id]
    assert [d.id for d in backend.list_site_deploys(site, page=2, per_page=2)] == [world.v1.id]
    with pytest.raises(Unprocessable):
        backend.list_site_deploys(site, state="done")
