"""Fixtures for the fake PostHog: a manual clock, a backend on it, an in-process client."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app


class Api:
    """A synchronous face over ``httpx.AsyncClient`` + ``ASGITransport`` (no server)."""

    def __init__(self, backend: PostHogBackend) -> None:
        self.app = build_app(backend)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://posthog.test") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> PostHogBackend:
    return PostHogBackend(clock)


@pytest.fixture
def api(backend: PostHogBackend) -> Api:
    return Api(backend)

