"""End to end with the vendor's own client: sentry-sdk posting to the fake over TCP.

Skipped unless ``sentry_sdk`` is importable (it is not a project dependency).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from fakes.common.clock import WallClock
from fakes.sentry import SentryBackend
from fakes.sentry.router import build_app

sentry_sdk = pytest.importorskip("sentry_sdk")
uvicorn = pytest.importorskip("uvicorn")


@pytest.fixture
def served():
    """The fake on 127.0.0.1 in a thread; yields (backend, base_url)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = SentryBackend(WallClock())
    server = uvicorn.Server(uvicorn.Config(build_app(backend), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield backend, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_real_sentry_sdk_events_and_request_sessions_are_ingested(served):
    """The SDK's own envelopes (compressed as it chooses) land as issues and sessions."""
    backend, base_url = served
    client = sentry_sdk.Client(dsn=backend.dsn(base_url), release="web@9",
                               environment="production", default_integrations=False)
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        for i in range(3):
            scope.start_session(session_mode="request")
            if i == 0:
                try:
                    {}["missing"]
                except KeyError as exc:
                    scope.capture_exception(exc)
            scope.end_session()
        client.flush(timeout=5)
    client.close(timeout=5)
    [sessions] = backend.state()["sessions"]
    assert (sessions["release"], sessions["healthy"], sessions["errored"]) == ("web@9", 2, 1)
    [issue] = backend.list_issues(query="release:web@9")
    assert (issue["title"], issue["count"]) == ("KeyError: 'missing'", "1")
