"""Fixtures for the fake Pulse: a manual clock, a small seeded backend on it (its rate
limit out of the way unless a test tightens it), a synchronous face over an in-process
HTTP client (httpx over ASGI, no server), and a helper that pages through a listing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.pulse.backend import DEFAULT_API_KEY, PulseBackend
from fakes.pulse.ratelimit import RateLimit
from fakes.pulse.router import build_app
from tests.fakes.clients import InProcessClient

SEED = 7
SIZE = 240
Records = list[dict[str, Any]]


class Api(InProcessClient):
    """Calls the fake's app; the good key goes as a bearer token unless ``key=`` says
    otherwise (``key=None``: no key at all)."""

    def __init__(self, backend: PulseBackend) -> None:
        super().__init__(build_app(backend), "http://pulse.test")

    def request(self, method: str, url: str, key: str | None = DEFAULT_API_KEY,
                **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers |= kwargs.pop("headers", {})
        return super().request(method, url, headers=headers, **kwargs)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_backend(clock: ManualClock) -> Callable[..., PulseBackend]:
    """``make_backend(seed=7, size=240, limit=…, per_second=…)`` on the test's clock."""

    def make(seed: int = SEED, size: int = SIZE, limit: int = 1_000_000,
             per_second: float = 1_000_000.0) -> PulseBackend:
        return PulseBackend(clock, seed, contacts=size, rate_limit=RateLimit(limit, per_second))

    return make


@pytest.fixture
def backend(make_backend: Callable[..., PulseBackend]) -> PulseBackend:
    return make_backend()


@pytest.fixture
def api(backend: PulseBackend) -> Api:
    return Api(backend)


@pytest.fixture
def make_api() -> Callable[[PulseBackend], Api]:
    return Api


@pytest.fixture
def list_all() -> Callable[..., Records]:
    """``list_all(backend, updated_since=None, limit=200)``: one paging pass, in-process."""

    def run(backend: PulseBackend, updated_since: str | None = None,
            limit: int = 200) -> Records:
        records: Records = []
        cursor = None
        while True:
            body = backend.list_contacts(DEFAULT_API_KEY, updated_since=updated_since,
                                         limit=limit, cursor=cursor).body
            records += body["data"]
            cursor = body["next_cursor"]
            if cursor is None:
                return records

    return run
