"""``drill serve``: every fake as a live local service, for rehearsing with the real clients.

Starts every vendor of the registry (``fakes.vendors.VENDORS``), seeded as the runbook's
world by the same descriptors a drill uses (a Vercel project with a previous and a
current READY production deployment, the PostHog flag, a Sentry project with the
scenario's alert rule, the Docker host, …) on the wall clock or a scaled clock, each
fake on its own loopback port, with its fault-injection control plane under ``/_fake/``.
Once every fake listens it prints the base URLs and credentials and writes a
ready-to-source env file (atomically). ``POST /_fake/reset`` puts a fake back as seeded
here (``fakes.common.control.Seeded``), ``POST /_fake/clear`` empties it. Backends'
periodic work (Sentry's alert evaluation) runs as asyncio tasks. Ctrl-C (SIGINT) or
SIGTERM shuts every server down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import shlex
import signal
import socket
import ssl
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from fakes.common.clock import WallClock
from fakes.common.control import Seeded
from fakes.common.descriptor import Delivery, Job, Start, Timings, Vendor
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector
from fakes.common.guard import WILDCARDS, ControlGuard
from fakes.slack.backend import DEFAULT_CHANNEL
from fakes.vendors import VENDORS
from sim.errors import BadInput
from sim.rng import Streams
from sim.scenario.model import Scenario
from sim.serve_host import advertised, fresh_credentials, is_loopback, served_names, warning
from sim.world.fakes import World, seed_world
from sim.world.population import build_population


@dataclass
class Service:
    """One fake to serve: its app, its env vars (given its base URL), its periodic jobs."""

    name: str
    offset: int
    app: Any
    env: Callable[[str], dict[str, str]]
    jobs: list[Job] = field(default_factory=list)
    drain: Callable[[], list[Delivery]] | None = None
    tls: tuple[str, str] | None = None
    shared_faults: bool = True  # False: the fake has its own /_fake/faults
    timings: Timings = field(default_factory=dict)
    backend: Any = None


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``serve``, which runs several."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_services(scenario: Scenario, clock: WallClock, workdir: Path) -> list[Service]:
    """Every registry vendor, seeded as the runbook's world for ``scenario`` on ``clock``
    (those a drill of it has, as the drill has them; the others as their descriptors
    seed them), in registry order (port ``--port-base`` + index)."""
    streams = Streams(scenario.seed)
    p = scenario.population
    population = build_population(streams.get("population"), min(p.users, 100_000),
                                  min(p.internal_users, p.users), p.activity_sigma)
    world = seed_world(scenario, clock, streams, population.internal_ids(), None)
    start = Start(clock, scenario, streams.get)
    return [_service(v, i, _backend(world, v, start), workdir) for i, v in enumerate(VENDORS)]


def _backend(world: World, vendor: Vendor[Any], start: Start) -> Any:
    """The world's backend of ``vendor``, or one its descriptor creates when a drill of
    this scenario has no such vendor (Netlify on the Vercel platform, …)."""
    backend = world.backend(vendor)
    return vendor.create(start) if backend is None else backend


def _service(vendor: Vendor[Any], offset: int, backend: Any, workdir: Path) -> Service:
    tls, extra = None, {}
    if vendor.ca_cert_env is not None:
        from fakes.pagerduty.tls import make_self_signed_cert

        cert, key = make_self_signed_cert(workdir)
        tls, extra = (str(cert), str(key)), {vendor.ca_cert_env: str(cert)}
    webhooks = vendor.webhooks
    return Service(vendor.name, offset, vendor.app(backend, True),
                   lambda url: {**vendor.env(backend, url), **extra},
                   jobs=vendor.jobs(backend),
                   drain=None if webhooks is None else lambda: webhooks(backend),
                   tls=tls, shared_faults=not vendor.own_faults,
                   timings=vendor.timings(backend) if vendor.timings else {},
                   backend=backend)


TOKEN_ENV = "DRILL_FAKE_TOKEN"  # the env file's name for the control-plane token


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port); a port in use or
    an address this machine does not have is ``BadInput`` (one line, exit 2)."""
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY only on accepted sockets whose
    # proto says TCP (base_events._set_nodelay), and without it Nagle holds each response's
    # body behind its headers until the client's delayed ACK (≈40 ms a request).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        raise BadInput(f"serve: {host}:{port} {why}; choose another --port-base or --host") \
            from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``export K=v`` lines to ``path`` atomically (temp file + rename), each value
    shell-quoted (a quote in a folder name stays text when the file is sourced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


async def serve(services: list[Service], clock: WallClock, host: str, port_base: int,
                env_file: Path | None, announce: Callable[[str], None]) -> None:
    """Serve every service until SIGINT/SIGTERM; then stop them all and return.

    Every ``/_fake/*`` control plane asks for a fresh random token (``X-Drill-Token``,
    ``DRILL_FAKE_TOKEN`` in the env file) and refuses foreign Hosts and Origins
    (``fakes.common.guard``)."""
    token = secrets.token_urlsafe(24)
    names, public = (host, *served_names(host)), advertised(host)
    if not is_loopback(host):
        _expose(services, host, names)
    servers, env = [], {TOKEN_ENV: token}
    for svc in services:
        if svc.shared_faults:
            install(svc.app, FaultInjector(clock), timings=svc.timings, real_latency=True)
        svc.app.add_middleware(ControlGuard, token=token, hosts=names,
                               any_ip=host in WILDCARDS,
                               error_class=getattr(svc.app.state, "fake_error_class", None))
        sock = bind(host, port_base + svc.offset if port_base else 0)
        port = sock.getsockname()[1]
        scheme = "https" if svc.tls else "http"
        url = f"{scheme}://{public if ':' not in public else f'[{public}]'}:{port}"
        env.update(svc.env(url))
        config = uvicorn.Config(svc.app, log_level="warning", lifespan="off",
                                ssl_certfile=svc.tls[0] if svc.tls else None,
                                ssl_keyfile=svc.tls[1] if svc.tls else None)
        servers.append((_Server(config), sock, svc, url))
    _connect_integrations(servers)
    _remember_seed(services, clock)
    verify = _trusting([svc.tls[0] for svc in services if svc.tls])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(srv.serve(sockets=[sock])) for srv, sock, _, _ in servers]
    while not all(srv.started for srv, *_ in servers):
        if any(t.done() for t in tasks):
            raise RuntimeError("a fake failed to start")
        await asyncio.sleep(0.01)
    jobs = [asyncio.create_task(_periodic(job, svc.drain, clock, verify))
            for _, _, svc, _ in servers for job in svc.jobs]
    if env_file is not None:
        write_env_file(env_file, env)
    announce(_banner(servers, env, env_file, clock))
    await stop.wait()
    for job in jobs:
        job.cancel()
    for srv, *_ in servers:
        srv.should_exit = True
    await asyncio.gather(*tasks, *jobs, return_exceptions=True)


def _expose(services: list[Service], host: str, names: tuple[str, ...]) -> None:
    """Serving beyond loopback: warn on stderr, replace the demo credentials with ones
    derived from a fresh random secret (``serve_host.fresh_credentials``), and remake
    each TLS service's certificate, in place, to cover ``names``."""
    from fakes.pagerduty.tls import make_self_signed_cert

    sys.stderr.write(warning(host) + "\n")
    secret = secrets.token_bytes(32)  # this serve's: every fresh credential derives from it
    for svc in services:
        fresh_credentials(svc.name, svc.backend, secret)
        if svc.tls is not None:
            make_self_signed_cert(Path(svc.tls[0]).parent, names)


def _remember_seed(services: list[Service], clock: WallClock) -> None:
    """Snapshot every resettable backend as seeded, so ``POST /_fake/reset`` restores the
    runbook's world (``/_fake/clear`` empties it)."""
    seeded = Seeded([s.backend for s in services if hasattr(s.backend, "reset")], [clock])
    for svc in services:
        svc.app.state.fake_seeded = seeded


def _connect_integrations(servers: list[Any]) -> None:
    """Point Sentry's PagerDuty and Slack integrations at the served fakes and make the
    scenario's alert rule use them on critical, as the runbook's Sentry is set up: the
    alert pages the app's PagerDuty service (Events API v2, its routing key) and posts to
    ``#incidents`` through the Slack app's bot (``fakes.sentry.integrations``); the
    drill's own pager webhook stays."""
    fakes = {svc.name: (svc.backend, url) for _, _, svc, url in servers}
    if "sentry" not in fakes:
        return
    sentry = fakes["sentry"][0]
    if "pagerduty" in fakes:
        pd, url = fakes["pagerduty"]
        name = pd.services[pd.routing_key].name
        sentry.add_trigger_action(sentry.integrations.connect_pagerduty(url, name,
                                                                        pd.routing_key))
    if "slack" in fakes:
        slack, url = fakes["slack"]
        sentry.add_trigger_action(sentry.integrations.connect_slack(
            url + "/api", slack.bot_token, DEFAULT_CHANNEL))


def _trusting(certs: list[str]) -> ssl.SSLContext:
    """The system's trust plus the served fakes' self-signed certificates (PagerDuty's),
    for the calls one fake makes to another (Sentry paging PagerDuty)."""
    context = ssl.create_default_context()
    for cert in certs:
        context.load_verify_locations(cafile=cert)
    return context


async def _periodic(job: Job, drain: Callable[[], list[Delivery]] | None,
                    clock: WallClock, verify: ssl.SSLContext) -> None:
    """Run ``job`` every period of virtual time, then deliver any webhooks it queued."""
    _, interval, run = job
    while True:
        await asyncio.sleep(max(interval / clock.speed, 0.05))
        run()
        if drain is not None:
            await _deliver(drain, verify)


async def _deliver(drain: Callable[[], list[Delivery]], verify: ssl.SSLContext) -> None:
    async with httpx.AsyncClient(timeout=10, verify=verify) as client:
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
