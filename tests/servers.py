"""Serving an ASGI app on 127.0.0.1 for end-to-end tests with a vendor's own client.

Most tests talk to a fake in-process (``httpx.ASGITransport``); the few that run a real
client (a CLI in a subprocess, an SDK with its own HTTP stack) need a real socket.
``serve_in_thread`` runs uvicorn in a daemon thread on a free loopback port and stops
it on exit. Usage::

    with serve_in_thread(build_app(backend)) as base_url:
        subprocess.run([...], env={"NETLIFY_API_URL": base_url, ...})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn


@contextmanager
def serve_in_thread(app: Any, *, startup_timeout: float = 10.0,
                    tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields the base URL
    (``https://`` when ``tls`` gives a (certfile, keyfile) pair).

    Raises RuntimeError when the server is not up within ``startup_timeout`` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="off",
                            access_log=False,
                            ssl_certfile=str(tls[0]) if tls else None,
                            ssl_keyfile=str(tls[1]) if tls else None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        thread.join(0.02)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5.0)
        sock.close()
