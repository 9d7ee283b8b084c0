"""Fixtures for the fake PagerDuty: a manual clock, a backend on it, an in-process
client, and the fake served over TLS for the real ``pagerduty`` client.

``tests/servers.serve_in_thread`` serves plain http only, and the ``pagerduty`` client
refuses any base URL that is not https, so ``serve_tls_in_thread`` lives here.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from fakes.common.clock import ManualClock
from fakes.pagerduty import DEFAULT_ROUTING_KEY, PagerDutyBackend, build_app
from fakes.pagerduty.tls import make_self_signed_cert

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
    app = build_app(backend)

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="https://events.pagerduty.test") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    return call


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert, key) of a self-signed certificate for 127.0.0.1, made once per session."""
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@contextmanager
def serve_tls_in_thread(app: Any, certfile: Path, keyfile: Path,
                        startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` over https on 127.0.0.1 (a free port); yields ``https://127.0.0.1:N``.

    Raises RuntimeError when uvicorn is not up within ``startup_timeout`` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="off",
                            access_log=False, ssl_certfile=str(certfile),
                            ssl_keyfile=str(keyfile))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"uvicorn-tls-{port}")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"uvicorn (TLS) did not start on 127.0.0.1:{port}")
        thread.join(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5.0)
        sock.close()


@pytest.fixture
def served_tls(backend: PagerDutyBackend,
               tls_cert: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    """The fake over https: (base_url, cert_path to trust)."""
    cert, key = tls_cert
    with serve_tls_in_thread(build_app(backend), cert, key) as base_url:
        yield base_url, cert
