"""Fixtures for the fake Slack: a manual clock, a backend on it, an in-process client."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.slack.backend import SlackBackend
from fakes.slack.router import build_app
from tests.fakes.clients import InProcessClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> SlackBackend:
    return SlackBackend(clock)


@pytest.fixture
def http(backend: SlackBackend) -> Callable[..., httpx.Response]:
    """``http(method, url, **kwargs)``: one request through httpx.ASGITransport."""
    return InProcessClient(build_app(backend), "http://hooks.slack.test").request
