"""Fixtures for the fake Statuspage: a manual clock, a backend on it, and an in-process
client that sends the account's key as Statuspage expects (``Authorization: OAuth``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.statuspage.backend import StatuspageBackend
from fakes.statuspage.router import build_app
from tests.fakes.clients import InProcessClient

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
    client = InProcessClient(build_app(backend), "https://api.statuspage.test")

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("headers", {"Authorization": f"OAuth {API_KEY}"})
        return client.request(method, url, **kwargs)

    return call
