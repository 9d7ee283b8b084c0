"""Fixtures for the fake PostHog: a manual clock, a backend on it, an in-process client."""

from __future__ import annotations

import pytest

from fakes.common.clock import ManualClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app
from tests.fakes.clients import InProcessClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> PostHogBackend:
    return PostHogBackend(clock)


@pytest.fixture
def api(backend: PostHogBackend) -> InProcessClient:
    return InProcessClient(build_app(backend), "http://posthog.test")

