"""Fixtures for the fake Sentry: a manual clock, a backend on it, and an in-process client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app

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
    app = build_app(backend)

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://sentry.test") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    return call
