"""Server CPU per request of the fakes under ``drill serve``, beside a bare uvicorn app.

The speed issue (15) asks that the fakes' request path cost at most 2 × the server CPU
of a bare uvicorn app on the same machine, for PostHog capture, Sentry envelopes and
Vercel reads. This script starts ``drill serve`` (every fake, one process) and, as the
reference in the same run, a bare ASGI app under uvicorn (one route answering a small
JSON body: uvicorn's HTTP parsing and response, nothing else), each in its own process;
sends REQUESTS requests of each kind over one keep-alive connection (httpx), and reads the
server process's CPU time (user + system, ``/proc/<pid>/stat``: Linux) around them. The
CPU the serving process spends idle (its clock and periodic jobs) over the same wall time
is measured beforehand and subtracted.

Run: ``python bench/bench_fakes.py [--requests N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

PORT_BASE = 47300
BARE_PORT = PORT_BASE + 50
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def bare_app(port: int) -> None:
    """The reference: a bare ASGI app under uvicorn."""
    import uvicorn

    body = json.dumps({"status": "Ok"}).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def per_request(pid: int, send: Callable[[], httpx.Response], n: int) -> float:
    """Server CPU seconds per request of ``send``, idle CPU subtracted."""
    for _ in range(20):  # warm: first-request imports and caches
        send().raise_for_status()
    idle0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(1.0)
    idle_rate = (cpu_seconds(pid) - idle0) / (time.perf_counter() - t0)
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    for _ in range(n):
        send().raise_for_status()
    wall = time.perf_counter() - t0
    return max(0.0, cpu_seconds(pid) - c0 - idle_rate * wall) / n


def env_of(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        out[key] = value
    return out


def requests(env: dict[str, str], client: httpx.Client
             ) -> dict[str, Callable[[], httpx.Response]]:
    """One request of each kind the issue names, as the vendors' SDKs send them."""
    capture = {"api_key": env["POSTHOG_PROJECT_API_KEY"], "event": "$pageview",
               "distinct_id": "usr_000000000001", "properties": {"$current_url": "/contacts"}}
    dsn = httpx.URL(env["SENTRY_DSN"])
    event_id = "9ec79c33ec9942ab8353589fcb2e04dc"
    envelope = "\n".join([
        json.dumps({"event_id": event_id, "sent_at": "2026-12-02T21:00:00Z"}),
        json.dumps({"type": "event"}),
        json.dumps({"event_id": event_id, "level": "error", "platform": "javascript",
                    "exception": {"values": [{"type": "Error", "value": "boom"}]}})]) + "\n"
    sentry_auth = f"Sentry sentry_version=7, sentry_key={dsn.username}"
    project = env["VERCEL_PROJECT_ID"]
    return {
        "PostHog capture": lambda: client.post(f"{env['POSTHOG_HOST']}/i/v0/e/", json=capture),
        "Sentry envelope": lambda: client.post(
            f"{env['SENTRY_URL']}/api/{dsn.path.strip('/')}/envelope/", content=envelope,
            headers={"X-Sentry-Auth": sentry_auth,
                     "Content-Type": "application/x-sentry-envelope"}),
        "Vercel read": lambda: client.get(
            f"{env['VERCEL_API_URL']}/v9/projects/{project}",
            params={"teamId": env["VERCEL_ORG_ID"]},
            headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_app(args.bare)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "drill.env"
        serve = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "--port-base",
                                  str(PORT_BASE), "--env-file", str(env_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare = subprocess.Popen([sys.executable, __file__, "--bare", str(BARE_PORT)])
        try:
            wait_for(f"http://127.0.0.1:{BARE_PORT}/")
            wait_for(f"http://127.0.0.1:{PORT_BASE}/")
            while not env_file.exists():
                time.sleep(0.2)
            with httpx.Client() as client:
                ref = per_request(bare.pid, lambda: client.get(
                    f"http://127.0.0.1:{BARE_PORT}/"), args.requests)
                print(f"bare uvicorn app      : {ref * 1e3:.3f} ms server CPU per request "
                      "(reference)")
                for name, send in requests(env_of(env_file), client).items():
                    cost = per_request(serve.pid, send, args.requests)
                    print(f"{name:22}: {cost * 1e3:.3f} ms server CPU per request = "
                          f"{cost / ref:.1f} × bare   target ≤ 2 ×")
        finally:
            for proc in (serve, bare):
                proc.terminate()
                proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
