"""The read-only calls the Vercel CLI's everyday listings make, over ``VercelBackend``.

Each route is the one the CLI asks (vercel/vercel ``packages/cli/src``):

- ``vercel project ls``: ``GET /v9/projects?limit=&search=&until=`` → ``{projects,
  pagination}`` (``commands/project/list.ts``; it prints name, updatedAt, nodeVersion);
- ``vercel teams ls``: ``GET /v2/teams?limit=`` → ``{teams, pagination}``
  (``util/teams/get-teams.ts``);
- ``vercel alias ls``: ``GET /v3/now/aliases?limit=`` → ``{aliases, pagination}``, each
  with ``alias``, ``deploymentId`` and ``deployment.url`` (``util/alias/get-aliases.ts``,
  ``commands/alias/ls.ts``); the fake's aliases are the projects' production domains;
- ``vercel env pull``: ``GET /v3/env/pull/{projectId}/{target}[/{gitBranch}]`` →
  ``{env, buildEnv}`` (``util/env/get-env-records.ts``, ``pullEnvRecords``; target
  ``development`` by default);
- ``vercel inspect --logs``: ``GET /v3/now/deployments/{id}/events?format=lines`` → one
  JSON build log per line (``util/events.ts``, ``printEvents``; ``BuildLog`` in
  ``util/logs.ts``). The fake's build log is its state changes, all already known when
  asked, so the stream ends at once, ``follow`` or not.

Every list is one page (``pagination.next`` null): the drill's account is small.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response

from fakes.common.clock import to_ms
from fakes.vercel import payloads
from fakes.vercel.backend import VercelBackend
from fakes.vercel.env import ENV_TARGETS
from fakes.vercel.errors import BadRequest
from fakes.vercel.models import Project, digest

V = "/{version}"


def listing_routes(api: APIRouter, backend: VercelBackend) -> None:
    """Add the listings to ``api`` (which checks the version and the token)."""
    @api.get(V + "/projects")
    async def list_projects(limit: int = 20, search: str = "") -> dict[str, Any]:
        found = [p for p in backend.projects.values() if search.lower() in p.name.lower()]
        found.sort(key=lambda p: p.updated, reverse=True)
        shown = found[:max(1, min(limit, 100))]
        return {"projects": [payloads.project(backend, p) for p in shown],
                "pagination": _one_page(len(shown))}

    @api.get(V + "/teams")
    async def list_teams() -> dict[str, Any]:
        backend.get_auth_user()
        return {"teams": [payloads.team(backend)], "pagination": _one_page(1)}

    @api.get(V + "/now/aliases")
    @api.get(V + "/aliases")
    async def list_aliases(limit: int = 20) -> dict[str, Any]:
        aliases = [_alias(backend, p) for p in backend.projects.values()
                   if p.production_deployment_id]
        shown = aliases[:max(1, min(limit, 100))]
        return {"aliases": shown, "pagination": _one_page(len(shown))}

    @api.get(V + "/env/pull/{project_id}")
    @api.get(V + "/env/pull/{project_id}/{target}")
    @api.get(V + "/env/pull/{project_id}/{target}/{git_branch}")
    async def pull_project_env(project_id: str, target: str = "development",
                               git_branch: str | None = None) -> dict[str, Any]:
        if target not in ENV_TARGETS:
            raise BadRequest(f"target must be one of {', '.join(ENV_TARGETS)}")
        env = backend.project_env(project_id, target)
        return {"env": env, "buildEnv": env}

    @api.get(V + "/now/deployments/{deployment_id}/events")
    async def deployment_build_logs(deployment_id: str) -> Response:
        dep = backend.get_deployment(deployment_id)
        lines = [_build_log(payloads.event(backend, dep, ev, n))
                 for n, ev in enumerate(backend.deployment_events(deployment_id))]
        return Response("".join(json.dumps(line) + "\n" for line in lines),
                        media_type="application/x-ndjson")


def _one_page(count: int) -> dict[str, Any]:
    return {"count": count, "next": None, "prev": None}


def _alias(backend: VercelBackend, p: Project) -> dict[str, Any]:
    """The project's production domain as ``GET /v3/now/aliases`` lists it."""
    dep = backend.deployments[p.production_deployment_id or ""]
    ms = to_ms(backend.clock, max(p.production_assigned_at, p.created))
    return {"uid": f"alias_{digest(p.production_domain, 20)}", "alias": p.production_domain,
            "deploymentId": dep.id, "projectId": p.id, "createdAt": ms, "updatedAt": ms,
            "deployment": {"id": dep.id, "url": dep.url}, "redirect": None,
            "creator": {"uid": backend.user.id, "email": backend.user.email,
                        "username": backend.user.username}}


def _build_log(event: dict[str, Any]) -> dict[str, Any]:
    """A ``/v3/deployments/{id}/events`` entry as the flat line ``format=lines`` sends."""
    return {**event["payload"], "type": event["type"], "created": event["created"]}
