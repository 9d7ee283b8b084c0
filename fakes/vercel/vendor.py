"""Fake Vercel as the runbook's world has it: a project with a previous (pre-redesign)
and a current READY production deployment, built with the ``VITE_*`` variables."""

from __future__ import annotations

from typing import Any

from fakes.common.builds import seconds
from fakes.common.descriptor import DAY, PROJECT_NAME, Start, Timings, Vendor
from fakes.vercel.backend import VercelBackend
from rollout.release.flags import INTERNAL_ENV_FLAG, ROLLOUT_ENV

VERCEL_TOKEN = "drill_vercel_token"


def create(start: Start) -> VercelBackend:
    """Previous and current production deployments, the ``VITE_*`` project env between
    them (so only the current one is built with it)."""
    scenario, w = start.scenario, start.scenario.world
    build_rng, queue_rng = start.streams("vercel.build_time"), start.streams("vercel.queue_time")
    alias_rng = start.streams("vercel.alias_propagation")
    vercel = VercelBackend(start.clock, token=VERCEL_TOKEN,
                           build_time=lambda: w.build_time.sample(build_rng),
                           queue_time=lambda: w.queue_time.sample(queue_rng),
                           alias_propagation=lambda: w.alias_propagation.sample(alias_rng))
    project = vercel.create_project(PROJECT_NAME)
    vercel.create_deployment(project.id, target="production", ready_at=-7 * DAY,
                             meta=release_meta(w.previous.version, w.previous.has_redesign))
    env = scenario.flag.env
    vercel.create_project_env(project.id, INTERNAL_ENV_FLAG, env.VITE_FEATURE_CONTACTS_REDESIGN,
                              type="plain", target=["production"])
    if env.VITE_ROLLOUT_PERCENTAGE is not None:
        vercel.create_project_env(project.id, ROLLOUT_ENV, env.VITE_ROLLOUT_PERCENTAGE,
                                  type="plain", target=["production"])
    if scenario.pulse is not None:
        vercel.create_project_env(project.id, "VITE_PULSE_SYNC_ENABLED", "true",
                                  type="plain", target=["production"])
    vercel.create_deployment(project.id, target="production", ready_at=-1 * DAY,
                             meta=release_meta(w.current.version, w.current.has_redesign))
    return vercel


def release_meta(version: str, has_redesign: bool) -> dict[str, Any]:
    """A release's deployment metadata (Vercel's and Netlify's seeds share it)."""
    return {"version": version, "hasRedesign": has_redesign,
            "githubCommitRef": "main", "githubCommitMessage": f"release {version}"}


def env(v: VercelBackend, url: str) -> dict[str, str]:
    return {"VERCEL_API_URL": url, "VERCEL_TOKEN": v.token, "VERCEL_ORG_ID": v.team.id,
            "VERCEL_PROJECT_ID": project_id(v)}


def project_id(vercel: VercelBackend) -> str:
    """The id of the app's project (a read of the backend's state: no clock advance)."""
    return next(p.id for p in vercel.projects.values() if p.name == PROJECT_NAME)


def timings(v: VercelBackend) -> Timings:
    return {"alias_propagation": (lambda: seconds(v.alias_propagation),
                                  lambda x: setattr(v, "alias_propagation", x)),
            "build_time": (lambda: float(v.build_time()),
                           lambda x: setattr(v, "build_time", lambda: x)),
            "queue_time": (lambda: float(v.queue_time()),
                           lambda x: setattr(v, "queue_time", lambda: x))}


VERCEL = Vendor("vercel", create, env, api_faults=True, timings=timings)
