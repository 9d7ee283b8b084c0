"""Fixtures for the fake Sentry: a manual clock, a backend on it, and an in-process client."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app
from tests.fakes.clients import InProcessClient

HOOK_URL = "http://responder.test/hooks/sentry"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> SentryBackend:
    return SentryBackend(clock, webhook_url=HOOK_URL)


@pytest.fixture
def http(backend: SentryBackend) -> Callable[..., httpx.Response]:
    """``http(method, url, **kwargs)``: one request through httpx.ASGITransport."""
    return InProcessClient(build_app(backend), "http://sentry.test").request
