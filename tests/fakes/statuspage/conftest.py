"""Fixtures for the fake Statuspage: a manual clock, a backend on it, and an in-process
client that sends the account's key as Statuspage expects (``Authorization: OAuth``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.statuspage.backend import StatuspageBackend
from fakes.statuspage.router import build_app

API_KEY = "drill_statuspage_key"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> StatuspageBackend:
    return StatuspageBackend(clock, api_key=API_KEY)


@pytest.fixture
def page_id(backend: StatuspageBackend) -> str:
    return backend.default_page_id


@pytest.fixture
def components(backend: StatuspageBackend, page_id: str) -> dict[str, str]:
    """Component name → id on the default page."""
    return {c.name: c.id for c in backend.list_components(page_id)}


@pytest.fixture
def http(backend: StatuspageBackend) -> Callable[..., httpx.Response]:
    """``http(method, url, **kwargs)``: one request through httpx.ASGITransport, with the
    good key unless ``headers`` says otherwise."""
    app = build_app(backend)

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("headers", {"Authorization": f"OAuth {API_KEY}"})

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="https://api.statuspage.test") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    return call
