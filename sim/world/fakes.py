"""The runbook's world for one drill: the fakes on one clock, seeded, and the HTTP wiring.

Every vendor comes from the registry (``fakes.vendors.VENDORS``): each one a drill of the
scenario has (``Vendor.in_drill``) is created and seeded by its descriptor, and is an
attribute of ``World`` under its name (``world.vercel``, ``world.pulse``…; None when this
drill has no such vendor). At the start of a drill that is: a Vercel project with a
previous (pre-redesign) and a current READY production deployment, the ``VITE_*``
variables set, the PostHog flag ``contacts_redesign``, a Sentry project with the
scenario's metric alert rule, the Slack, Statuspage and PagerDuty of the incident, the
Contacts app, and the pager the alert webhook reaches. Setup talks to the backends
directly; everything a responder does goes over HTTP through ``InProcessTransport``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx

from fakes.common.clock import Clock
from fakes.common.descriptor import Start, Vendor
from fakes.common.faults import FaultInjector
from fakes.common.serving import LiveBuild, vite_env
from fakes.contacts.backend import ContactsBackend
from fakes.contacts.vendor import CONTACTS as CONTACTS_APP
from fakes.docker.backend import DockerBackend
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.vendor import NETLIFY_TOKEN, site_id
from fakes.pagerduty.backend import PagerDutyBackend
from fakes.posthog.backend import PostHogBackend
from fakes.pulse.backend import PulseBackend
from fakes.sentry.backend import SentryBackend
from fakes.sentry.vendor import WEBHOOK_SECRET
from fakes.slack.backend import SlackBackend
from fakes.statuspage.backend import StatuspageBackend
from fakes.vendors import COMMS, VENDORS
from fakes.vercel.backend import VercelBackend
from fakes.vercel.vendor import VERCEL_TOKEN, project_id
from rollout.clients.docker import DockerEngine
from rollout.clients.netlify import NetlifyAPI
from rollout.clients.posthog import PostHogAPI
from rollout.clients.vercel import VercelAPI
from rollout.release.flags import INTERNAL_ENV_FLAG, ROLLOUT_ENV, FlagEnv, FlagMode
from rollout.steps import Procedure
from sim.rng import Streams
from sim.scenario.model import Responder, Scenario
from sim.tempdirs import make_temp_dir, remove_temp_dir
from sim.world.apprepo import AppRepo
from sim.world.ci import CIPipeline
from sim.world.clock import SimClock
from sim.world.database import AppDatabase
from sim.world.faults import FaultSchedule
from sim.world.latency import CallMeter
from sim.world.pager import Pager, build_pager_app
from sim.world.transport import AppSpec, InProcessTransport, reusable_apps

DOMAIN = "drill"  # a vendor is reached at http://<name>.drill
VERCEL = "http://vercel.drill"
NETLIFY = "http://netlify.drill"
DOCKER = "http://docker.drill"
POSTHOG = "http://posthog.drill"
SENTRY = "http://sentry.drill"
CONTACTS = "http://contacts.drill"
PAGER = "http://pager.drill"

DOWN = LiveBuild("down", "", False, FlagEnv(None, None), down=True)


class SyncJob(Protocol):
    """The app's Pulse sync job as the drill reads it (``sim.world.sync.SyncHost``)."""

    def enabled(self) -> bool: ...
    def procedure(self, spec: Responder) -> Procedure: ...


@dataclass
class CommsFakes:
    """The Slack, Statuspage and PagerDuty fakes of a drill (``fakes.vendors.COMMS``)."""

    slack: SlackBackend
    statuspage: StatuspageBackend
    pagerduty: PagerDutyBackend

    @classmethod
    def create(cls, start: Start) -> CommsFakes:
        """The three fakes, each created by its registry descriptor."""
        return cls(**{v.name: v.create(start) for v in COMMS})

    def app_specs(self) -> dict[str, AppSpec]:
        """Host → (app builder, backend, fault injector), as the drill world wires apps."""
        return {v.host(DOMAIN): (_drill_app(v), getattr(self, v.name), None) for v in COMMS}

    def endpoints(self) -> dict[str, str]:
        """What ``IncidentCommander`` takes to reach these fakes (from the variables
        ``drill serve`` writes for them, at their drill hosts)."""
        env: dict[str, str] = {}
        for v in COMMS:
            env.update(v.env(getattr(self, v.name), f"http://{v.host(DOMAIN)}"))
        return {key: env[var] for key, var in COMMS_ENDPOINTS.items()}


COMMS_ENDPOINTS = {"slack_webhook_url": "SLACK_WEBHOOK_URL",
                   "statuspage_base": "STATUSPAGE_API_URL",
                   "statuspage_api_key": "STATUSPAGE_API_KEY",
                   "statuspage_page_id": "STATUSPAGE_PAGE_ID",
                   "pagerduty_base": "PAGERDUTY_EVENTS_URL",
                   "pagerduty_routing_key": "PAGERDUTY_ROUTING_KEY"}


@dataclass
class World:
    """The fakes of one drill, seeded on one clock, and the HTTP client that reaches them.

    One attribute per registry vendor, named after it; ``contacts`` (the app) is set
    by ``seed_world`` once the vendors it serves exist.
    """

    vercel: VercelBackend
    posthog: PostHogBackend
    sentry: SentryBackend
    slack: SlackBackend
    statuspage: StatuspageBackend
    pagerduty: PagerDutyBackend
    flag_key: str
    flag_mode: FlagMode
    internal_ids: list[str]
    netlify: NetlifyBackend | None = None
    docker: DockerBackend | None = None
    pulse: PulseBackend | None = None
    docker_env: dict[str, str] = field(default_factory=dict)
    app_stopped: bool = False
    transport: InProcessTransport | None = None
    http: httpx.Client = field(default_factory=httpx.Client)
    app_repo: AppRepo | None = None
    ci: CIPipeline | None = None
    database: AppDatabase | None = None
    sync: SyncJob | None = None
    mock_data: bool = False
    releases: tuple[str, str] = ("", "")
    contacts: ContactsBackend = field(init=False)
    project_id: str = field(init=False)
    site_id: str = field(init=False)
    _repo_dir: str | None = field(default=None, repr=False)
    _build: LiveBuild | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.project_id = project_id(self.vercel)
        self.site_id = site_id(self.netlify) if self.netlify is not None else ""

    @property
    def comms(self) -> CommsFakes:
        return CommsFakes(self.slack, self.statuspage, self.pagerduty)

    def backend(self, vendor: Vendor[Any]) -> Any:
        """The backend of a registry vendor (the attribute named after it)."""
        return getattr(self, vendor.name)

    def live_build(self) -> LiveBuild:
        """What production serves now (a data-plane read, no HTTP): the Vercel production
        alias, the Netlify site's published deploy, or the healthy Docker container;
        a down build when the app is stopped or no container serves."""
        if self.app_stopped:
            return DOWN
        if self.docker is not None:
            return self._container_build(self.docker)
        d = self.netlify.published_deploy(self.site_id) if self.netlify is not None \
            else self.vercel.production_deployment(self.project_id)
        if self._build is None or self._build.deployment_id != d.id:
            mode = d.meta.get("flagMode")
            self._build = LiveBuild(d.id, str(d.meta.get("version", "")),
                                    d.meta.get("hasRedesign", True) in (True, "true"),
                                    FlagEnv.from_mapping(d.env or {}),
                                    flag_mode=FlagMode(mode) if mode else None,
                                    vite_env=vite_env(d.env or {}))
        return self._build

    def _container_build(self, docker: DockerBackend) -> LiveBuild:
        serving = docker.serving()
        if serving is None:
            return DOWN
        if self._build is None or self._build.deployment_id != serving["image"]:
            self._build = LiveBuild(serving["image"], str(serving["version"]),
                                    serving["hasRedesign"] in (True, "true"),
                                    FlagEnv.from_mapping(self.docker_env),
                                    vite_env=vite_env(self.docker_env))
        return self._build

    def remote_flag(self, user_id: str) -> bool | None:
        # posthog-js answers isFeatureEnabled with undefined for a flag left out of /flags
        # (inactive, deleted), and true/false for one it evaluated (sim.world.served).
        result = self.posthog.evaluate_flags(user_id, flag_keys=[self.flag_key]).get(self.flag_key)
        return bool(result.enabled) if result is not None else None

    def flag_version(self) -> object:
        """Identity of the PostHog flag as clients fetch it now (None when it is absent)."""
        flag = self.posthog.flag_by_key(self.flag_key)
        return None if flag is None else (flag.id, flag.version)

    def flag_definition(self) -> dict[str, Any] | None:
        """The PostHog flag definition clients evaluate now, or None when ``/flags`` leaves
        it out (absent, inactive or deleted: as the fake's ``/flags`` does)."""
        flag = self.posthog.flag_by_key(self.flag_key)
        if flag is None or not flag.active or flag.deleted:
            return None
        return flag.definition()

    def vercel_api(self) -> VercelAPI:
        return VercelAPI(self.http, VERCEL, VERCEL_TOKEN, self.vercel.team.id)

    def docker_api(self) -> DockerEngine:
        return DockerEngine(self.http, DOCKER)

    def netlify_api(self) -> NetlifyAPI:
        return NetlifyAPI(self.http, NETLIFY, NETLIFY_TOKEN)

    def posthog_api(self) -> PostHogAPI:
        return PostHogAPI(self.http, POSTHOG, self.posthog.personal_api_key)

    def close(self) -> None:
        self.http.close()
        if self.transport is not None:
            self.transport.close()
        if self._repo_dir is not None:
            remove_temp_dir(Path(self._repo_dir))
        if self.database is not None:
            self.database.close()

    def attach_git(self, scenario: Scenario, streams: Streams) -> None:
        """The app's real repository, its origin and the CI a push triggers (git paths):
        the seeded deployments are marked with their release commits."""
        from sim.world.apprepo import create_app_repo

        w, c = scenario.world, scenario.ci
        self._repo_dir = str(make_temp_dir("drill-repo-"))  # removed on every exit
        repo = create_app_repo(Path(self._repo_dir), self.vercel.clock,
                               previous=w.previous.version, current=w.current.version,
                               flag_mode=scenario.flag.mode, follow_up_fix=c.follow_up_fix)
        for deployment in self.vercel.list_deployments(self.project_id, target="production"):
            version = deployment.meta.get("version")
            sha = repo.releases.get(f"v{version}")
            if sha is not None:
                deployment.meta["githubCommitSha"] = sha
        if c.branch_protection == "reject-all":
            repo.protect()
        elif c.branch_protection == "deny-force-push":
            repo.deny_force_push()
        rng = streams.get("ci.build_time")
        self.app_repo = repo
        self.releases = (f"v{w.previous.version}", f"v{w.current.version}")
        self.ci = CIPipeline(self.vercel.clock, repo.remote, repo.queue, self.vercel_api(),
                             self.project_id, runners=c.runners,
                             build_time=lambda: c.build_time.sample(rng))


def drill_vendors(scenario: Scenario) -> list[Vendor[Any]]:
    """The registry's vendors a drill of ``scenario`` has, in registry order."""
    return [v for v in VENDORS if v.in_drill(scenario)]


def seed_world(scenario: Scenario, clock: Clock, streams: Streams, internal_ids: list[str],
               webhook_url: str | None, transport: InProcessTransport | None = None) -> World:
    """Create and seed the runbook's world for ``scenario``: each vendor a drill of it has,
    by its descriptor, then the Contacts app serving them. With ``transport``, the world's
    HTTP client sends through it."""
    start = Start(clock, scenario, streams.get, webhook_url)
    made = {v.name: v.create(start) for v in drill_vendors(scenario) if v is not CONTACTS_APP}
    wiring: dict[str, Any] = {} if transport is None else {
        "transport": transport, "http": httpx.Client(transport=transport, timeout=None)}
    world = World(**made, **wiring, flag_key=scenario.flag.posthog.key,
                  flag_mode=FlagMode(scenario.flag.mode), internal_ids=internal_ids,
                  docker_env=baked_env(scenario) if "docker" in made else {})
    world.contacts = CONTACTS_APP.create(replace(start, serving=world))
    return world


def baked_env(scenario: Scenario) -> dict[str, str]:
    """The ``VITE_*`` variables baked into the Docker images (those the scenario sets)."""
    env = scenario.flag.env
    values = {INTERNAL_ENV_FLAG: env.VITE_FEATURE_CONTACTS_REDESIGN,
              ROLLOUT_ENV: env.VITE_ROLLOUT_PERCENTAGE}
    return {k: v for k, v in values.items() if v is not None}


def build_world(scenario: Scenario, clock: Clock, streams: Streams, internal_ids: list[str],
                on_alert: Callable[[dict[str, Any]], None],
                on_rejected: Callable[[str], None], faults: FaultSchedule) -> World:
    """Create and seed every fake for ``scenario`` on ``clock``, wired for in-process HTTP.

    Each vendor a scenario's API faults may target gets a fault injector on the drill's
    clock, loaded with the scenario's API faults for that vendor; Pulse gets the
    scenario's Pulse faults. With a ``SimClock`` the transport carries the call meter
    that times the calls made in a driven procedure (``world.api_latency``).
    """
    meter = CallMeter(clock, scenario.world.api_latency, streams) \
        if isinstance(clock, SimClock) else None
    transport = InProcessTransport(meter=meter)
    world = seed_world(scenario, clock, streams, internal_ids, f"{PAGER}/sentry-webhook",
                       transport)
    if world.pulse is not None:
        for f in faults.pulse_faults:
            world.pulse.set_fault(f.fault, start=f.at, end=f.until, **f.params)
    seed = int(streams.get("api_faults").integers(0, 2**31))
    specs: dict[str, AppSpec] = {
        v.host(DOMAIN): (_drill_app(v), world.backend(v),
                         FaultInjector(clock, seed, rules=faults.rules_for(v.name))
                         if v.api_faults else None)
        for v in drill_vendors(scenario)}
    specs["pager.drill"] = (build_pager_app, Pager(WEBHOOK_SECRET, on_alert, on_rejected), None)
    transport.mount(reusable_apps(specs))
    return world


def _drill_app(vendor: Vendor[Any]) -> Callable[[Any], Any]:
    """The vendor's app builder as a drill calls it (a clock that only SimPy advances)."""
    return lambda backend: vendor.app(backend, False)
