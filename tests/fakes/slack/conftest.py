"""Fixtures for the fake Slack: a manual clock, a backend on it, an in-process client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.slack.backend import SlackBackend
from fakes.slack.router import build_app


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> SlackBackend:
    return SlackBackend(clock)


@pytest.fixture
def http(backend: SlackBackend) -> Callable[..., httpx.Response]:
    """``http(method, url, **kwargs)``: one request through httpx.ASGITransport."""
    app = build_app(backend)

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://hooks.slack.test") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    return call
