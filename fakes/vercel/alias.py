"""The production alias: which deployment a project's production domain serves.

A READY production deployment takes the alias at once while auto-assignment is on
(``auto_assign``). Instant rollback and promote ask for a swap (``request_alias``),
recorded in ``project.last_alias_request`` and landing ``propagation`` seconds later
(``swap_alias``, the ``swap_alias`` transition of ``lifecycle.ALIAS_TRANSITIONS``); a
landed promote turns auto-assignment back on. Every change of hands is kept in
``project.alias_history``.
"""

from __future__ import annotations

from fakes.common.clock import Clock, to_ms
from fakes.common.schedule import Schedule
from fakes.vercel.errors import Conflict
from fakes.vercel.lifecycle import ALIAS_TRANSITIONS, JobStatus
from fakes.vercel.models import AliasChange, Deployment, Project


def auto_assign(project: Project, dep: Deployment, at: float) -> None:
    """What a deployment that became READY at ``at`` does to the aliases."""
    if not dep.is_production:
        dep.alias_assigned_at = at  # a preview gets its own branch alias at READY
        return
    # Seeded deployments may be created out of order; a later swap already won.
    if project.auto_assign_production and at >= project.production_assigned_at:
        assign(project, dep, at, "auto")


def request_alias(project: Project, dep: Deployment, kind: str, clock: Clock,
                  propagation: float, schedule: Schedule) -> None:
    """Ask for production to move to ``dep`` (a ``rollback`` or a ``promote``).

    Raises Conflict while another request is in progress or when ``dep`` already serves.
    """
    req = project.last_alias_request
    if req is not None and req["jobStatus"] == JobStatus.IN_PROGRESS:
        raise Conflict(f"An alias request to {req['toDeploymentId']} is still in progress")
    if dep.id == project.production_deployment_id:
        raise Conflict(f"The provided deploymentId ({dep.id}) is already the current "
                       "production deployment.")
    now = clock.now()
    project.last_alias_request = {
        "jobStatus": JobStatus.IN_PROGRESS.value, "requestedAt": to_ms(clock, now),
        "toDeploymentId": dep.id, "fromDeploymentId": project.production_deployment_id,
        "type": kind}
    schedule.add(now + propagation, "swap_alias", project.id)


def swap_alias(project: Project, deployments: dict[str, Deployment], at: float) -> None:
    """Land the project's pending alias request (a stale one does nothing)."""
    req = project.last_alias_request
    if req is None or (JobStatus(req["jobStatus"]), "swap_alias") not in ALIAS_TRANSITIONS:
        return
    req["jobStatus"] = ALIAS_TRANSITIONS[(JobStatus(req["jobStatus"]), "swap_alias")].value
    assign(project, deployments[req["toDeploymentId"]], at, req["type"])
    if req["type"] == "promote":
        project.auto_assign_production = True


def assign(project: Project, dep: Deployment, at: float, reason: str) -> None:
    """Production serves ``dep`` from ``at`` on."""
    project.production_deployment_id = dep.id
    project.production_assigned_at = at
    if dep.alias_assigned_at is None:
        dep.alias_assigned_at = at
    project.alias_history.append(AliasChange(at, dep.id, reason))
