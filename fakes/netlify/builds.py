"""A deploy and its build as records: minting them, and moving a deploy through the
transition table in ``lifecycle`` (each step logged in ``deploy.events``).

``backend.NetlifyBackend`` decides when (the schedule, the samplers); this module says
what a new deploy looks like and what one step does to it.
"""

from __future__ import annotations

from typing import Any

from fakes.common.builds import BuildTimeline
from fakes.netlify.lifecycle import FINAL_STATES, DeployState, next_state
from fakes.netlify.models import Build, Deploy, DeployEvent, Site

BUILD_FAILED = "Build script returned non-zero exit code: 2"
CANCELED = "Canceled build"


def new_deploy(site: Site, dep_id: str, build_id: str, context: str, branch: str,
               commit_ref: str | None, title: str | None, meta: dict[str, Any], draft: bool,
               timeline: BuildTimeline) -> tuple[Deploy, Build]:
    """A deploy of ``site`` (state ``new``) on ``timeline``, and its build."""
    created, building, ready, fails = timeline
    dep = Deploy(dep_id, site.id, build_id, site.name, context, branch, commit_ref, title,
                 meta, draft, created, building, ready, fails, updated=created)
    dep.events.append(DeployEvent(created, DeployState.NEW, "created"))
    return dep, Build(build_id, dep_id, commit_ref, created)


def move(dep: Deploy, event: str, at: float) -> None:
    """Apply ``event`` to ``dep`` at ``at``; raises Unprocessable when it cannot fire."""
    dep.state = next_state(dep.state, event)
    dep.updated = at
    if dep.state in FINAL_STATES:
        dep.ended_at = at
    dep.events.append(DeployEvent(at, dep.state, event.replace("_", " ")))
