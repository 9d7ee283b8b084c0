"""``drill serve``: every fake as a live local service, for rehearsing with the real clients.

Starts the runbook's world (the same seeding a drill uses: a Vercel project with a
previous and a current READY production deployment, the PostHog flag, a Sentry project
with the scenario's alert rule, …) on the wall clock or a scaled clock, each fake on its
own loopback port, with its fault-injection control plane under ``/_fake/``. Once every
fake listens it prints the base URLs and credentials and writes a ready-to-source env
file (atomically). Backends' periodic work (Sentry's alert evaluation) runs as asyncio
tasks. Ctrl-C (SIGINT) or SIGTERM shuts every server down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from fakes.common.clock import WallClock
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector
from sim.rng import Streams
from sim.scenario.model import Scenario
from sim.world.fakes import NETLIFY_TOKEN, VERCEL_TOKEN, Backends, seed_backends, seed_netlify
from sim.world.population import build_population

Job = tuple[str, float, Callable[[], Any]]


@dataclass
class Service:
    """One fake to serve: its app, its env vars (given its base URL), its periodic jobs."""

    name: str
    offset: int
    app: Any
    env: Callable[[str], dict[str, str]]
    jobs: list[Job] = field(default_factory=list)
    drain: Callable[[], list[Any]] | None = None
    tls: tuple[str, str] | None = None
    shared_faults: bool = True  # False: the fake has its own /_fake/faults
    timings: dict[str, tuple[Callable[[], float], Callable[[float], None]]] = \
        field(default_factory=dict)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``serve``, which runs several."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_services(scenario: Scenario, clock: WallClock, workdir: Path) -> list[Service]:
    """The fakes of the runbook's world for ``scenario``, on ``clock``."""
    streams = Streams(scenario.seed)
    p = scenario.population
    population = build_population(streams.get("population"), min(p.users, 100_000),
                                  min(p.internal_users, p.users), p.activity_sigma)
    b = seed_backends(scenario, clock, streams, population.internal_ids(), None)
    return [_vercel(b), _netlify(scenario, clock, streams), _posthog(b), _sentry(b),
            _pulse(clock, scenario.seed), _slack(clock), _statuspage(clock),
            _pagerduty(clock, workdir), _contacts(b)]


def _vercel(b: Backends) -> Service:
    from fakes.vercel.router import build_app

    v = b.vercel
    return Service("vercel", 0, build_app(v), lambda url: {
        "VERCEL_API_URL": url, "VERCEL_TOKEN": VERCEL_TOKEN, "VERCEL_ORG_ID": v.team.id,
        "VERCEL_PROJECT_ID": b.project_id},
        timings={"alias_propagation": (lambda: v.alias_propagation,
                                       lambda x: setattr(v, "alias_propagation", x)),
                 "build_time": (lambda: float(v.build_time()),
                                lambda x: setattr(v, "build_time", lambda: x)),
                 "queue_time": (lambda: float(v.queue_time()),
                                lambda x: setattr(v, "queue_time", lambda: x))})


def _netlify(scenario: Scenario, clock: WallClock, streams: Streams) -> Service:
    from fakes.netlify.router import build_app

    netlify, site_id = seed_netlify(scenario, clock, streams)
    return Service("netlify", 1, build_app(netlify), lambda url: {
        "NETLIFY_API_URL": url, "NETLIFY_AUTH_TOKEN": NETLIFY_TOKEN, "NETLIFY_SITE_ID": site_id},
        timings={"publish_propagation": (lambda: netlify.publish_propagation,
                                         lambda x: setattr(netlify, "publish_propagation", x))})


def _pulse(clock: WallClock, seed: int) -> Service:
    from fakes.pulse.backend import DEFAULT_API_KEY, PulseBackend
    from fakes.pulse.router import build_app

    pulse = PulseBackend(clock, seed)
    return Service("pulse", 4, build_app(pulse), lambda url: {
        "PULSE_API_URL": url + "/v1", "PULSE_API_KEY": DEFAULT_API_KEY}, shared_faults=False)


def _posthog(b: Backends) -> Service:
    from fakes.posthog.router import build_app

    ph = b.posthog
    return Service("posthog", 2, build_app(ph), lambda url: {
        "POSTHOG_HOST": url, "POSTHOG_PROJECT_API_KEY": ph.project_api_key,
        "POSTHOG_PERSONAL_API_KEY": ph.personal_api_key})


def _sentry(b: Backends) -> Service:
    from fakes.sentry.router import build_app

    s = b.sentry
    return Service("sentry", 3, build_app(s), lambda url: {
        "SENTRY_DSN": s.dsn(url), "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": s.auth_token,
        "SENTRY_ORG": s.org, "SENTRY_PROJECT": s.project_slug},
        jobs=s.periodic_jobs(), drain=s.drain_webhooks,
        timings={"evaluation_interval": (lambda: s.evaluation_interval,
                                         lambda x: setattr(s, "evaluation_interval", x))})


def _slack(clock: WallClock) -> Service:
    from fakes.slack.backend import SlackBackend
    from fakes.slack.router import build_app

    slack = SlackBackend(clock)
    return Service("slack", 5, build_app(slack),
                   lambda url: {"SLACK_WEBHOOK_URL": url + slack.default_webhook})


def _statuspage(clock: WallClock) -> Service:
    from fakes.statuspage.backend import StatuspageBackend
    from fakes.statuspage.router import build_app

    sp = StatuspageBackend(clock)
    return Service("statuspage", 6, build_app(sp), lambda url: {
        "STATUSPAGE_API_URL": url + "/v1", "STATUSPAGE_API_KEY": sp.api_key,
        "STATUSPAGE_PAGE_ID": sp.default_page_id})


def _pagerduty(clock: WallClock, workdir: Path) -> Service:
    from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY, PagerDutyBackend
    from fakes.pagerduty.router import build_app
    from fakes.pagerduty.tls import make_self_signed_cert

    pd = PagerDutyBackend(clock)
    cert, key = make_self_signed_cert(workdir)
    return Service("pagerduty", 7, build_app(pd), lambda url: {
        "PAGERDUTY_EVENTS_URL": url, "PAGERDUTY_ROUTING_KEY": DEFAULT_ROUTING_KEY,
        "PAGERDUTY_CA_CERT": str(cert)}, tls=(str(cert), str(key)))


def _contacts(b: Backends) -> Service:
    from fakes.contacts.router import build_app

    return Service("contacts", 8, build_app(b.contacts_backend()),
                   lambda url: {"CONTACTS_APP_URL": url})


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``export K='v'`` lines to ``path`` atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"export {k}='{v}'\n" for k, v in env.items())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


async def serve(services: list[Service], clock: WallClock, host: str, port_base: int,
                env_file: Path | None, announce: Callable[[str], None]) -> None:
    """Serve every service until SIGINT/SIGTERM; then stop them all and return."""
    servers, env = [], {}
    for svc in services:
        if svc.shared_faults:
            install(svc.app, FaultInjector(clock), timings=svc.timings, real_latency=True)
        sock = bind(host, port_base + svc.offset if port_base else 0)
        port = sock.getsockname()[1]
        scheme = "https" if svc.tls else "http"
        url = f"{scheme}://{host if ':' not in host else f'[{host}]'}:{port}"
        env.update(svc.env(url))
        config = uvicorn.Config(svc.app, log_level="warning", lifespan="off",
                                ssl_certfile=svc.tls[0] if svc.tls else None,
                                ssl_keyfile=svc.tls[1] if svc.tls else None)
        servers.append((_Server(config), sock, svc, url))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(srv.serve(sockets=[sock])) for srv, sock, _, _ in servers]
    while not all(srv.started for srv, *_ in servers):
        if any(t.done() for t in tasks):
            raise RuntimeError("a fake failed to start")
        await asyncio.sleep(0.01)
    jobs = [asyncio.create_task(_periodic(job, svc.drain, clock)) for _, _, svc, _ in servers
            for job in svc.jobs]
    if env_file is not None:
        write_env_file(env_file, env)
    announce(_banner(servers, env, env_file, clock))
    await stop.wait()
    for job in jobs:
        job.cancel()
    for srv, *_ in servers:
        srv.should_exit = True
    await asyncio.gather(*tasks, *jobs, return_exceptions=True)


async def _periodic(job: Job, drain: Callable[[], list[Any]] | None, clock: WallClock) -> None:
    """Run ``job`` every period of virtual time, then deliver any webhooks it queued."""
    _, interval, run = job
    while True:
        await asyncio.sleep(max(interval / clock.speed, 0.05))
        run()
        if drain is not None:
            await _deliver(drain)


async def _deliver(drain: Callable[[], list[Any]]) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for hook in drain():
            with contextlib.suppress(httpx.HTTPError):
                await client.post(hook.url, content=hook.body, headers=hook.headers)


def _banner(servers: list[Any], env: dict[str, str], env_file: Path | None,
            clock: WallClock) -> str:
    lines = [f"drill serve: {len(servers)} fakes on the "
             + ("wall clock" if clock.speed == 1 else f"clock ×{clock.speed:g}"), ""]
    lines += [f"  {svc.name:<11} {url}" for _, _, svc, url in servers]
    lines += [""] + [f"  {k}={v}" for k, v in env.items()]
    if env_file is not None:
        lines += ["", f"  env file: {env_file}  (source it: . {env_file})"]
    lines += ["", "  fault control plane: POST <url>/_fake/faults  · Ctrl-C stops"]
    return "\n".join(lines)
