"""Restore and rollback publish without a build, after publish_propagation (2 s here);
a locked deploy stops auto publishing until it is unlocked."""

from __future__ import annotations

import pytest

from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.errors import NotFound, Unprocessable
from fakes.netlify.lifecycle import PublishStatus


def test_restore_publishes_only_after_propagation(clock, backend, world):
    """Requested at 100: v2 is served until 101.999, v1 from 102 on, published_at 102."""
    clock.set(100.0)
    assert backend.restore_site_deploy(world.site.id, world.v1.id) is world.v1
    assert world.site.pending.status is PublishStatus.PENDING
    clock.set(101.999)
    assert backend.published_deploy(world.site.id).id == world.v2.id
    clock.set(102.0)
    assert backend.published_deploy(world.site.id).id == world.v1.id
    assert world.v1.published_at == 102.0
    assert world.site.publish_history[-1].reason == "restore"


def test_rollback_republishes_the_previously_published_deploy(clock, backend, world):
    """v1 then v2 were published: rollback serves v1 at +2 s; a second rollback undoes it."""
    clock.set(50.0)
    backend.rollback_site_deploy(world.site.id)
    assert backend.published_deploy(world.site.id).id == world.v2.id
    clock.set(52.0)
    assert backend.published_deploy(world.site.id).id == world.v1.id
    backend.rollback_site_deploy(world.site.id)
    clock.set(54.0)
    assert backend.published_deploy(world.site.id).id == world.v2.id


def test_rollback_without_an_earlier_publish_is_refused(clock):
    """A site that only ever published one deploy has nothing to roll back to."""
    backend = NetlifyBackend(clock)
    site = backend.create_site("contacts-web")
    backend.create_deploy(site.id, ready_at=-1.0)
    with pytest.raises(Unprocessable, match="no previously published deploy"):
        backend.rollback_site_deploy(site.id)


def test_restore_does_not_lock_so_the_next_production_build_overwrites_it(clock, backend,
                                                                         world):
    """Netlify's warning: with auto publishing on, a new production deploy replaces a
    rolled-back version."""
    backend.restore_site_deploy(world.site.id, world.v1.id)
    clock.set(2.0)
    fix = backend.create_deploy(world.site.id)
    clock.set(2.0 + 70.0)
    assert backend.published_deploy(world.site.id).id == fix.id


def test_lock_stops_auto_publishing_and_unlock_publishes_nothing_by_itself(clock, backend,
                                                                          world):
    """Locked: a ready production build is not published. Unlocked: the next one is, the
    one that got ready meanwhile is not."""
    backend.lock_deploy(world.v2.id)
    assert world.v2.locked and not world.site.auto_publishing
    held = backend.create_deploy(world.site.id)
    clock.set(70.0)
    assert backend.get_deploy(held.id).state == "ready" and held.published_at is None
    assert backend.published_deploy(world.site.id).id == world.v2.id
    backend.unlock_deploy(world.v2.id)
    assert not world.v2.locked and world.site.auto_publishing
    assert backend.published_deploy(world.site.id).id == world.v2.id
    later = backend.create_deploy(world.site.id)
    clock.set(140.0)
    assert backend.published_deploy(world.site.id).id == later.id


def test_restore_then_lock_pins_the_restored_deploy(clock, backend, world):
    """The scripted rollback (restore X, lock X) keeps X served through later builds;
    the lock follows what the site publishes."""
    backend.restore_site_deploy(world.site.id, world.v1.id)
    backend.lock_deploy(world.v1.id)
    fix = backend.create_deploy(world.site.id)
    clock.set(100.0)
    assert backend.published_deploy(world.site.id).id == world.v1.id
    backend.restore_site_deploy(world.site.id, fix.id)
    clock.set(102.0)
    assert backend.published_deploy(world.site.id).id == fix.id
    assert fix.locked and not world.v1.locked and not world.site.auto_publishing


def test_a_later_publish_request_supersedes_a_pending_one(clock, backend, world):
    """Two requests inside the propagation window: only the later one lands."""
    third = backend.create_deploy(world.site.id, ready_at=-900.0)  # ready before v2: unpublished
    backend.restore_site_deploy(world.site.id, world.v1.id)
    clock.set(1.0)
    backend.restore_site_deploy(world.site.id, third.id)
    clock.set(2.5)
    assert backend.published_deploy(world.site.id).id == world.v2.id
    clock.set(3.0)
    assert backend.published_deploy(world.site.id).id == third.id
    assert [r.status for r in world.site.publish_requests] == [PublishStatus.SUPERSEDED,
                                                                 PublishStatus.PUBLISHED]
    assert world.v1.published_at == -3600.0  # never re-published


def test_refusals(clock, backend, world):
    """Restore or lock of an unfinished deploy → 422; another site's deploy → 404."""
    building = backend.create_deploy(world.site.id)
    with pytest.raises(Unprocessable):
        backend.restore_site_deploy(world.site.id, building.id)
    with pytest.raises(Unprocessable):
        backend.lock_deploy(building.id)
    other = backend.create_site("other")
    with pytest.raises(NotFound):
        backend.restore_site_deploy(other.id, world.v1.id)
    with pytest.raises(NotFound):
        backend.restore_site_deploy(world.site.id, "0" * 24)


def test_restore_201_and_rollback_204_over_http(api, clock, backend, world):
    """POST …/restore → 201 with the deploy; PUT …/rollback → 204, empty body; the
    published deploy in getSite changes only after propagation."""
    site = world.site.id

    async def script(c):
        restored = await c.post(f"/api/v1/sites/{site}/deploys/{world.v1.id}/restore")
        before = (await c.get(f"/api/v1/sites/{site}")).json()["published_deploy"]["id"]
        clock.advance(2.0)
        after = (await c.get(f"/api/v1/sites/{site}")).json()["published_deploy"]["id"]
        rolled = await c.put(f"/api/v1/sites/{site}/rollback")
        clock.advance(2.0)
        back = (await c.get(f"/api/v1/sites/{site}")).json()["published_deploy"]["id"]
        return restored, before, after, rolled, back

    restored, before, after, rolled, back = api(script)
    assert restored.status_code == 201 and restored.json()["id"] == world.v1.id
    assert (before, after, back) == (world.v2.id, world.v1.id, world.v2.id)
    assert rolled.status_code == 204 and rolled.content == b""


def test_lock_and_unlock_over_http(api, world):
    """POST /deploys/{id}/lock|unlock → 200 with `locked` flipped."""
    async def script(c):
        locked = await c.post(f"/api/v1/deploys/{world.v2.id}/lock")
        unlocked = await c.post(f"/api/v1/deploys/{world.v2.id}/unlock")
        return locked, unlocked

    locked, unlocked = api(script)
    assert (locked.status_code, locked.json()["locked"]) == (200, True)
    assert (unlocked.status_code, unlocked.json()["locked"]) == (200, False)
