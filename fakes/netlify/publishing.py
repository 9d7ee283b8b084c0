"""What a Netlify site serves, and how that changes: auto publishing, restore and
rollback requests landing after propagation, and the lock that stops auto publishing.

A ready production deploy publishes at once while auto publishing is on
(``auto_publish``). Restore and rollback ask for a publish (``request_publish``) that
lands ``propagation`` seconds later (``land``); a later request supersedes an earlier
one still pending. A locked site stays pinned to what it serves: whatever publishes
there takes the lock (``hand_lock``). Every change is kept in ``site.publish_history``.
"""

from __future__ import annotations

from fakes.common.schedule import Due, Schedule
from fakes.netlify.errors import Unprocessable
from fakes.netlify.lifecycle import DeployState, next_publish_status
from fakes.netlify.models import Deploy, PublishChange, PublishRequest, Site


def auto_publish(site: Site, dep: Deploy, at: float, deploys: dict[str, Deploy]) -> None:
    """What a deploy that became ready at ``at`` does to what its site serves."""
    # Seeded deploys may be created out of order; a later publish already won.
    if (dep.is_production and not dep.draft and site.auto_publishing
            and at >= site.published_since):
        publish(site, dep, at, "auto", deploys)


def request_publish(site: Site, dep: Deploy, kind: str, now: float, propagation: float,
                    schedule: Schedule) -> None:
    """Ask for ``dep`` to be served ``propagation`` seconds from ``now`` (``restore`` or
    ``rollback``); a pending earlier request is superseded."""
    if site.pending is not None:  # the later request wins
        site.pending.status = next_publish_status(site.pending.status, "supersede")
    lands_at = now + propagation
    seq = schedule.add(lands_at, "publish", site.id)
    site.pending = PublishRequest(seq, kind, dep.id, site.published_deploy_id, now, lands_at)
    site.publish_requests.append(site.pending)


def land(site: Site, due: Due, deploys: dict[str, Deploy]) -> None:
    """The site's pending publish lands (a superseded one does nothing)."""
    req = site.pending
    if req is None or req.seq != due.seq:
        return  # superseded by a later request
    req.status = next_publish_status(req.status, "publish")
    site.pending = None
    publish(site, deploys[req.deploy_id], due.at, req.kind, deploys)


def publish(site: Site, dep: Deploy, at: float, reason: str,
            deploys: dict[str, Deploy]) -> None:
    """The site serves ``dep`` from ``at`` on; a locked site passes the lock to it."""
    site.published_deploy_id, site.published_since, site.updated = dep.id, at, at
    dep.published_at = dep.updated = at
    site.publish_history.append(PublishChange(at, dep.id, reason))
    if not site.auto_publishing:
        hand_lock(site, dep, at, deploys)


def hand_lock(site: Site, dep: Deploy, at: float, deploys: dict[str, Deploy]) -> None:
    """``dep`` holds the site's lock from ``at``; the previous holder lets go."""
    holder = deploys.get(site.locked_deploy_id or "")
    if holder is not None and holder is not dep:
        holder.locked, holder.updated = False, at
    site.locked_deploy_id = dep.id
    dep.locked, dep.updated = True, at


def check_ready(dep: Deploy, action: str) -> Deploy:
    """``dep`` if it is ready; raises Unprocessable (only ready deploys can be ``action``)."""
    if dep.state is not DeployState.READY:
        raise Unprocessable(f"Deploy {dep.id} is {dep.state}: only ready deploys "
                            f"can be {action}")
    return dep


def previously_published(site: Site) -> str:
    """The deploy the site published before the current one, the target of a rollback;
    raises Unprocessable when there is none."""
    previous = next((c.deploy_id for c in reversed(site.publish_history)
                     if c.deploy_id != site.published_deploy_id), None)
    if previous is None:
        raise Unprocessable(f"Site {site.name} has no previously published deploy "
                            "to roll back to")
    return previous


def unlock(site: Site, dep: Deploy, at: float) -> None:
    """``dep`` lets go of the lock; auto publishing resumes if it held the site's."""
    if site.locked_deploy_id == dep.id:
        site.locked_deploy_id = None
    dep.locked, dep.updated = False, at
