"""A seeded deployment history for the fake Vercel (``seed_history``).

Production deployments that ended READY in the ``days`` before the clock's start, each
created, then building after a draw of ``queue_time``, then READY after a draw of
``build_time``, exactly as ``GET /v6/deployments`` reports them (``createdAt``,
``buildingAt``, ``ready``, Unix ms). They never serve production: the account's own
production deployment stays where it was, so a drill or ``drill serve`` is unchanged
except for a longer list. ``drill calibrate`` is tested on it (tests/sim/test_calibrate.py).
Control plane: ``POST /_fake/history {seed, count, days?, project?, build_time?:
{median, sigma}, queue_time?: {median, sigma}}`` (``history_router``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request

from fakes.common.app import read_json
from fakes.common.control import PREFIX
from fakes.common.history import Lognormal, creation_times, history_request
from fakes.vercel.backend import VercelBackend
from fakes.vercel.errors import BadRequest
from fakes.vercel.lifecycle import ReadyState
from fakes.vercel.models import Deployment, DeploymentEvent, digest


def seed_history(backend: VercelBackend, project: str, *, seed: int, count: int,
                 build_time: Lognormal, queue_time: Lognormal, days: float = 90.0,
                 end: float = 0.0) -> list[Deployment]:
    """Add ``count`` past READY deployments to ``project`` (id or name); returns them,
    oldest first. Raises NotFound for an unknown project."""
    rng = np.random.default_rng(seed)
    p = backend.get_project(project)
    made = []
    for n, created in enumerate(creation_times(rng, count, days, end)):
        building = created + queue_time.draw(rng)
        ready = building + build_time.draw(rng)
        made.append(_deployment(backend, p.id, p.name, f"history-{seed}-{n}",
                                created, building, ready))
    return made


def history_router(backend: VercelBackend) -> APIRouter:
    """``POST /_fake/history``: seed a history (defaults: build 90 s, queue 5 s)."""
    router = APIRouter(prefix=PREFIX)

    @router.post("/history")
    async def seed(request: Request) -> dict[str, Any]:
        body = await read_json(request, BadRequest)
        try:
            args = history_request(body, "build_time", "queue_time")
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        project = body.get("project") or next(iter(backend.projects), "")
        made = seed_history(backend, project, **{"build_time": Lognormal(90.0, 0.3),
                                                 "queue_time": Lognormal(5.0, 0.5), **args})
        return {"seeded": len(made), "project": backend.get_project(project).id}

    return router


def _deployment(backend: VercelBackend, project_id: str, name: str, key: str,
                created: float, building: float, ready: float) -> Deployment:
    dep_id = "dpl_" + digest(key, 24)
    dep = Deployment(dep_id, project_id, name,
                     f"{name}-{digest('url' + dep_id, 9).lower()}.vercel.app", "production",
                     {"githubCommitRef": "main"}, created, building, ready, fails=False,
                     state=ReadyState.READY, ended_at=ready)
    dep.events += [DeploymentEvent(created, ReadyState.QUEUED, "queued"),
                   DeploymentEvent(building, ReadyState.BUILDING, "start build"),
                   DeploymentEvent(ready, ReadyState.READY, "finish build")]
    backend.directory.add_deployment(backend.projects[project_id], dep)
    return dep
