"""Fixtures for the fake PagerDuty: a manual clock, a backend on it, an in-process
client, and the fake served over TLS for the real ``pagerduty`` client.

The ``pagerduty`` client refuses any base URL that is not https: ``served_tls`` serves
the fake with a self-signed certificate (``tests.servers.serve_in_thread(app, tls=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY, PagerDutyBackend
from fakes.pagerduty.router import build_app
from fakes.pagerduty.tls import make_self_signed_cert
from tests.fakes.clients import InProcessClient
from tests.servers import serve_in_thread

ROUTING_KEY = DEFAULT_ROUTING_KEY


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> PagerDutyBackend:
    return PagerDutyBackend(clock)


@pytest.fixture
def http(backend: PagerDutyBackend) -> Callable[..., httpx.Response]:
    """``http(method, url, **kwargs)``: one request through httpx.ASGITransport."""
    return InProcessClient(build_app(backend), "https://events.pagerduty.test").request


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert, key) of a self-signed certificate for 127.0.0.1, made once per session."""
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def served_tls(backend: PagerDutyBackend,
               tls_cert: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    """The fake over https: (base_url, cert_path to trust)."""
    cert, key = tls_cert
    with serve_in_thread(build_app(backend), tls=(cert, key)) as base_url:
        yield base_url, cert
