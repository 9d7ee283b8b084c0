"""Running the real browser SDKs in headless Chromium against the fakes.

- ``Recorder`` wraps a fake's ASGI app and keeps every request it receives (wall-clock
  arrival time, method, path, query, raw body), so a test can say what was sent and when.
- ``PageServer`` is the Contacts SPA's origin: it serves ``probe.html``, the SDK bundles
  under ``/sdk/``, and takes the page's ``/report`` (what the page saw, with times); each
  report is answered by the test's hook, whose return value is the next URL to load.
- ``launch_chromium`` starts the Debian ``chromium`` headless on a profile folder; a second
  launch on the same folder is the same browser profile, so what the SDK persisted is
  really on disk.
- ``bundle_sentry`` builds an IIFE of the installed ``@sentry/browser`` (global ``Sentry``)
  with esbuild: the npm package ships no CDN bundle.

Everything listens on 127.0.0.1; nothing goes to the network.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

PROBE = Path(__file__).with_name("probe.html")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--no-default-browser-check",
                  "--disable-dev-shm-usage")


@dataclass(frozen=True)
class Seen:
    """One request a fake received."""

    at: float  # time.time() on arrival
    method: str
    path: str
    query: str
    body: bytes
    status: list[int] = field(default_factory=list)  # the fake's answer, once sent


@dataclass
class Recorder:
    """An ASGI wrapper that records each request before passing it to ``app``."""

    app: Any
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        at, chunks, more = time.time(), [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        seen = Seen(at, scope["method"], scope["path"], scope.get("query_string", b"").decode(),
                    body)
        self.seen.append(seen)
        replayed = False

        async def send_and_note(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen.status.append(message["status"])
            await send(message)

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, replay, send_and_note)

    def requests(self, method: str, path_prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path_prefix)]


class PageServer:
    """The SPA's origin: the probe page, the SDKs, and the page's reports."""

    def __init__(self, sdk_files: dict[str, Path],
                 on_report: Callable[[dict[str, Any]], str | None]) -> None:
        self.reports: queue.Queue[dict[str, Any]] = queue.Queue()
        self._on_report = on_report
        self._sdk_files = sdk_files
        self.app = Starlette(routes=[Route("/app", self._page),
                                     Route("/sdk/{name}", self._sdk),
                                     Route("/report", self._report, methods=["POST"])])

    async def _page(self, request: Request) -> Response:
        return FileResponse(PROBE, media_type="text/html")

    async def _sdk(self, request: Request) -> Response:
        path = self._sdk_files.get(request.path_params["name"])
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type="text/javascript")

    async def _report(self, request: Request) -> Response:
        seen = json.loads(await request.body())
        next_url = await run_in_threadpool(self._on_report, seen)
        self.reports.put(seen)
        return JSONResponse({"next": next_url})

    def wait_report(self, timeout: float) -> dict[str, Any]:
        """The next report; raises queue.Empty after ``timeout`` seconds."""
        return self.reports.get(timeout=timeout)


def launch_chromium(chromium: str, profile: Path, url: str) -> subprocess.Popen[bytes]:
    """Headless Chromium on ``profile`` loading ``url``; the caller stops it."""
    with open(profile.parent / f"{profile.name}-chromium.log", "ab") as log:
        return subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                 url], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_chromium(process: subprocess.Popen[bytes]) -> None:
    """Stop the browser started by ``launch_chromium`` (its own process group only)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(10)


def bundle_sentry(esbuild: Path, sentry_browser: Path, out: Path) -> Path:
    """An IIFE bundle of the installed ``@sentry/browser`` exposing ``window.Sentry``."""
    entry = out.with_suffix(".entry.js")
    entry.write_text("export * from '@sentry/browser';\n")
    env = os.environ | {"NODE_PATH": str(sentry_browser.parents[1])}
    subprocess.run([str(esbuild), str(entry), "--bundle", "--format=iife",
                    "--global-name=Sentry", "--log-level=error", f"--outfile={out}"],
                   env=env, check=True, timeout=120)
    return out


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.05)
    return True
