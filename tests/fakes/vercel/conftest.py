"""Fixtures for the fake Vercel: a manual clock, a backend on it, a seeded project, and
an in-process HTTP client (httpx over ASGI) to script API calls with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fakes.common.clock import ManualClock
from fakes.vercel.backend import VercelBackend
from fakes.vercel.models import Deployment, Project
from fakes.vercel.router import build_app
from tests.fakes.clients import InProcessClient, Script

TOKEN = "drill_token"
QUEUE = 10.0
BUILD = 60.0
PROPAGATION = 2.0


@dataclass
class World:
    """A project serving v2 in production, with v1 (older, READY) to roll back to."""

    project: Project
    v1: Deployment
    v2: Deployment


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> VercelBackend:
    return VercelBackend(clock, token=TOKEN, build_time=lambda: BUILD,
                         queue_time=lambda: QUEUE, alias_propagation=PROPAGATION)


@pytest.fixture
def world(backend: VercelBackend) -> World:
    project = backend.create_project("contacts-web",
                                     env={"VITE_FEATURE_CONTACTS_REDESIGN": "true"})
    v1 = backend.create_deployment(project.id, ready_at=-3600.0,
                                   meta={"githubCommitSha": "aaa111", "version": "1.0.0"})
    v2 = backend.create_deployment(project.id, ready_at=-600.0,
                                   meta={"githubCommitSha": "bbb222", "version": "2.0.0"})
    return World(project, v1, v2)


@pytest.fixture
def api(backend: VercelBackend) -> Callable[[Script], Any]:
    """Run ``script(client)`` against the fake's app; the client sends the good token."""
    return InProcessClient(build_app(backend), "http://vercel.test",
                           headers={"Authorization": f"Bearer {TOKEN}"}).run
