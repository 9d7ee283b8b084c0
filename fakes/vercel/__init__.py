"""The fake Vercel: deployments built on a virtual clock, env vars baked at build time,
instant rollback and promote of the production alias, and the REST API the vercel CLI
and @vercel/sdk call.

``backend.VercelBackend`` is the state machine (``lifecycle`` its transition tables,
``models`` its records); ``router.build_app`` puts Vercel's HTTP API in front of it.
"""

from fakes.vercel.backend import VercelBackend
from fakes.vercel.lifecycle import JobStatus, ReadyState
from fakes.vercel.models import Deployment, EnvVar, Project
from fakes.vercel.router import build_app, build_router

__all__ = ["Deployment", "EnvVar", "JobStatus", "Project", "ReadyState", "VercelBackend",
           "build_app", "build_router"]
