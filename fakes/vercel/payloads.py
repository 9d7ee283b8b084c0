"""The JSON bodies Vercel's clients read, built from the backend's records.

@vercel/sdk checks every response against zod schemas: required fields must be present
(nullable ones as null) and optional ones absent rather than null, so each builder here
returns the required fields of its resource (checked with @vercel/sdk 1.28.35) and drops optional
ones that have no value. Times go out as Unix milliseconds.
"""

from __future__ import annotations

from typing import Any

from fakes.common.clock import to_ms
from fakes.vercel.backend import VercelBackend
from fakes.vercel.lifecycle import ReadyState
from fakes.vercel.models import Deployment, DeploymentEvent, EnvVar, Project, meta_strings

REGION = "iad1"
# Nullable fields the SDK requires (or tolerates as null); every other None is dropped.
_KEEP_NULL = frozenset({"target", "inspectorUrl", "routes", "aliasAssignedAt", "aliasError",
                        "errorMessage", "billing", "softBlock", "avatar", "description",
                        "lastAliasRequest", "rollingRelease", "fromDeploymentId"})


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None or k in _KEEP_NULL}


def user(backend: VercelBackend) -> dict[str, Any]:
    u = backend.user
    return {"user": {
        "id": u.id, "username": u.username, "email": u.email, "name": u.name,
        "defaultTeamId": u.default_team_id, "createdAt": to_ms(backend.clock, u.created),
        "avatar": None, "softBlock": None, "billing": None, "resourceConfig": {},
        "stagingPrefix": "drill", "hasTrialAvailable": False, "version": "northstar"}}


def team(backend: VercelBackend) -> dict[str, Any]:
    t, ms = backend.team, to_ms(backend.clock, backend.team.created)
    return {"id": t.id, "slug": t.slug, "name": t.name, "avatar": None, "description": None,
            "billing": None, "creatorId": backend.user.id, "createdAt": ms, "updatedAt": ms,
            "stagingPrefix": "drill", "membership": {"role": "OWNER", "confirmed": True}}


def env_var(backend: VercelBackend, env: EnvVar) -> dict[str, Any]:
    return {"id": env.id, "key": env.key, "value": env.value, "type": env.type,
            "target": list(env.target), "configurationId": None, "decrypted": True,
            "createdAt": to_ms(backend.clock, env.created),
            "updatedAt": to_ms(backend.clock, env.updated),
            "createdBy": backend.user.id, "updatedBy": backend.user.id,
            "securityIssues": []}  # required by the SDK's list schema (1.28.35)


def envs_page(backend: VercelBackend, envs: list[EnvVar]) -> dict[str, Any]:
    return {"envs": [env_var(backend, e) for e in envs],
            "pagination": {"count": len(envs), "next": None, "prev": None}}


def project(backend: VercelBackend, p: Project) -> dict[str, Any]:
    """A project, with its production target, latest deployments and last alias request."""
    ms = to_ms(backend.clock, p.created)
    live = backend.deployments.get(p.production_deployment_id or "")
    latest = [backend.deployments[i] for i in reversed(p.deployment_ids[-5:])]
    return {
        "id": p.id, "name": p.name, "accountId": backend.team.id, "createdAt": ms,
        "updatedAt": to_ms(backend.clock, p.updated), "framework": "vite",
        "nodeVersion": "20.x", "alias": [], "deploymentExpiration": {},
        "directoryListing": False, "live": False,
        "resourceConfig": {"functionDefaultRegions": [REGION]},
        "defaultResourceConfig": {"functionDefaultRegions": [REGION]},
        "targets": {"production": _target(backend, p, live)} if live else {},
        "latestDeployments": [_target(backend, p, d) for d in latest],
        "lastAliasRequest": dict(p.last_alias_request) if p.last_alias_request else None,
        "rollingRelease": None,
        "env": [env_var(backend, e) for e in p.env_vars.values()],
    }


def _target(backend: VercelBackend, p: Project, dep: Deployment) -> dict[str, Any]:
    """A deployment as a project's ``targets``/``latestDeployments`` entry."""
    common = _common(backend, p, dep)
    return _compact({
        "id": dep.id, "url": dep.url, "name": dep.name, "deploymentHostname": dep.url,
        "createdAt": common["createdAt"], "createdIn": REGION, "plan": "pro", "private": True,
        "type": "LAMBDAS", "readyState": dep.state.value,
        "creator": {"uid": backend.user.id, "username": backend.user.username,
                    "email": backend.user.email},
        "buildingAt": common["buildingAt"], "readyAt": common["ready"],
        "alias": common["alias"], "aliasAssigned": common["aliasAssigned"],
        "aliasError": None, "meta": meta_strings(dep.meta), "target": dep.target,
        "readySubstate": common["readySubstate"]})


def deployment(backend: VercelBackend, dep: Deployment) -> dict[str, Any]:
    """A deployment as ``GET /v13/deployments/{id}`` and ``POST /v13/deployments`` send it:
    keyed by ``id``."""
    p = backend.projects[dep.project_id]
    common = _common(backend, p, dep)
    baked = sorted(dep.env or {})
    return _compact(common | {
        "id": dep.id, "status": dep.state.value, "ownerId": backend.team.id,
        "team": {"id": backend.team.id, "name": backend.team.name, "slug": backend.team.slug},
        "bootedAt": common["buildingAt"], "version": 2, "regions": [REGION], "routes": None,
        "plan": "pro", "public": False, "createdIn": REGION, "build": {"env": baked},
        "env": baked, "isInConcurrentBuildsQueue": False, "isInSystemBuildsQueue": False,
        "projectSettings": {"framework": "vite"}, "buildSkipped": False,
        "aliasError": None, "errorMessage": dep.error_message, "aliasFinal": None,
        "originalDeploymentId": dep.source_deployment_id,
    })


def deployment_item(backend: VercelBackend, dep: Deployment) -> dict[str, Any]:
    """A deployment as the v6/v7 list sends it: keyed by ``uid``, no ``id``."""
    p = backend.projects[dep.project_id]
    common = _common(backend, p, dep)
    return _compact(common | {"uid": dep.id, "state": dep.state.value,
                              "created": common["createdAt"],
                              "isRollbackCandidate": dep.is_rollback_candidate})


def deployments_page(backend: VercelBackend, deps: list[Deployment],
                     limit: int) -> dict[str, Any]:
    """The list body; ``next`` is the creation time to pass as ``until`` for older ones."""
    items = [deployment_item(backend, d) for d in deps]
    nxt = items[-1]["created"] if items and len(items) >= limit else None
    return {"deployments": items, "pagination": {"count": len(items), "next": nxt, "prev": None}}


def _common(backend: VercelBackend, p: Project, dep: Deployment) -> dict[str, Any]:
    """Fields the get, list and project shapes share."""
    clock = backend.clock
    ready = dep.state is ReadyState.READY
    building = dep.state is not ReadyState.QUEUED
    live = p.production_deployment_id == dep.id
    substate = None
    if ready and dep.is_production:
        substate = "PROMOTED" if dep.alias_assigned_at is not None else "STAGED"
    return {
        "name": dep.name, "url": dep.url, "projectId": dep.project_id, "target": dep.target,
        "readyState": dep.state.value, "readySubstate": substate, "type": "LAMBDAS",
        "createdAt": to_ms(clock, dep.created),
        "buildingAt": to_ms(clock, dep.building_at if building else dep.created),
        "ready": to_ms(clock, dep.ended_at) if ready and dep.ended_at is not None else None,
        "creator": {"uid": backend.user.id, "username": backend.user.username},
        "inspectorUrl": f"https://vercel.com/{backend.team.slug}/{p.name}/"
                        f"{dep.id.removeprefix('dpl_')}",
        "meta": meta_strings(dep.meta), "source": "redeploy" if dep.source_deployment_id else "cli",
        "alias": ([p.production_domain] if live else []) + [dep.url],
        "aliasAssigned": dep.alias_assigned_at is not None,
        "aliasAssignedAt": (to_ms(clock, dep.alias_assigned_at)
                            if dep.alias_assigned_at is not None else None),
    }


def event(backend: VercelBackend, dep: Deployment, ev: DeploymentEvent,
          serial: int) -> dict[str, Any]:
    """One entry of ``GET /v3/deployments/{id}/events``."""
    ms = to_ms(backend.clock, ev.at)
    return {"type": "deployment-state", "created": ms,
            "payload": {"id": f"{dep.id}-{serial}", "date": ms, "serial": str(serial),
                        "deploymentId": dep.id, "text": f"{ev.state.value}: {ev.text}",
                        "info": {"type": "build", "name": dep.name}},
            "info": {"readyState": ev.state.value}}
