"""A seeded deploy history for the fake Netlify (``seed_history``).

Production deploys that ended ``ready`` in the ``days`` before the clock's start: each
created, enqueued, building after a draw of ``queue_time``, ready after a draw of
``build_time``, published ``publish_time`` later, as ``GET /sites/{id}/deploys`` reports
them (``created_at``, ``published_at``, ``deploy_time`` in whole seconds). The site's
published deploy stays as it was. ``drill calibrate`` is tested on it. Control plane:
``POST /_fake/history {seed, count, days?, site?, build_time?, queue_time?}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request

from fakes.common.app import read_json
from fakes.common.builds import BuildTimeline
from fakes.common.control import PREFIX
from fakes.common.history import Lognormal, creation_times, history_request
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.builds import move, new_deploy
from fakes.netlify.errors import BadRequest
from fakes.netlify.models import Deploy, hex_id


def seed_history(backend: NetlifyBackend, site_id: str, *, seed: int, count: int,
                 build_time: Lognormal, queue_time: Lognormal, publish_time: float = 1.0,
                 days: float = 90.0, end: float = 0.0) -> list[Deploy]:
    """Add ``count`` past ready deploys to the site (id or name); returns them, oldest
    first. Raises NotFound for an unknown site."""
    rng = np.random.default_rng(seed)
    site = backend.get_site(site_id)
    made = []
    for n, created in enumerate(creation_times(rng, count, days, end)):
        building = created + queue_time.draw(rng)
        timeline = BuildTimeline(created, building, building + build_time.draw(rng), False)
        key = f"history-{seed}-{n}"
        dep, build = new_deploy(site, hex_id("deploy" + key), hex_id("build" + key),
                                "production", site.repo_branch, None, None, {}, False,
                                timeline)
        backend.directory.add_deploy(site, dep, build)
        _finish(dep, timeline, publish_time)
        made.append(dep)
    return made


def history_router(backend: NetlifyBackend) -> APIRouter:
    """``POST /_fake/history``: seed a history (defaults: build 90 s, queue 5 s)."""
    router = APIRouter(prefix=PREFIX)

    @router.post("/history")
    async def seed(request: Request) -> dict[str, Any]:
        body = await read_json(request, BadRequest)
        try:
            args = history_request(body, "build_time", "queue_time")
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        site = body.get("site") or next(iter(backend.directory.sites), "")
        made = seed_history(backend, site, **{"build_time": Lognormal(90.0, 0.3),
                                              "queue_time": Lognormal(5.0, 0.5), **args})
        return {"seeded": len(made), "site": backend.get_site(site).id}

    return router


def _finish(dep: Deploy, timeline: BuildTimeline, publish_time: float) -> None:
    move(dep, "enqueue", timeline.created)
    move(dep, "start_build", timeline.building)
    move(dep, "finish_build", timeline.ready)
    dep.published_at = dep.updated = timeline.ready + publish_time
