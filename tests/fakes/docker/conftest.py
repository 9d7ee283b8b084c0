"""Fixtures for the fake Docker host: a manual clock, a backend on it with round timings,
the runbook's running service, and an in-process HTTP client (httpx over ASGI).

Timings here: 10 MB/s from the registry, 0.5 s per layer, 0.2 s per manifest, the app
boots in 8 s, health checks every 5 s (so a container is healthy 10 s after its start),
a clean shutdown takes 2 s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fakes.common.clock import ManualClock
from fakes.docker.backend import DockerBackend
from fakes.docker.models import Container
from fakes.docker.router import build_app
from tests.fakes.clients import InProcessClient, Script

BANDWIDTH = 10e6
LAYER_LATENCY = 0.5
MANIFEST_LATENCY = 0.2
BOOT = 8.0
HEALTH_INTERVAL = 5.0
SHUTDOWN = 2.0
BASE = "http://docker.test"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> DockerBackend:
    return DockerBackend(clock, bandwidth=BANDWIDTH, layer_latency=LAYER_LATENCY,
                         manifest_latency=MANIFEST_LATENCY, boot_time=BOOT,
                         health_interval=HEALTH_INTERVAL, shutdown_time=SHUTDOWN)


@pytest.fixture
def web(backend: DockerBackend) -> Container:
    """``logos-vision-web-1`` serving 2.0.0 (``current``) since an hour before t=0."""
    return backend.seed_service("logos-vision-crm:current")


@pytest.fixture
def api(backend: DockerBackend) -> Callable[..., Any]:
    """Run ``script(client)`` against the fake Engine (``follow`` as in ``build_app``)."""
    def run(script: Script, follow: bool = False) -> Any:
        return InProcessClient(build_app(backend, follow=follow), BASE).run(script)

    return run
