"""The runbook's world for one drill: the fakes on one clock, seeded, and the HTTP wiring.

At the start of a drill: a Vercel project with a previous (pre-redesign) and a current
READY production deployment, the ``VITE_*`` variables set, the PostHog flag
``contacts_redesign``, a Sentry project with the scenario's metric alert rule, the
Contacts app, and the pager the alert webhook reaches. Setup talks to the backends
directly; everything a responder does goes over HTTP through ``InProcessTransport``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fakes.common.clock import Clock
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector
from fakes.contacts.backend import ContactsBackend, LiveBuild
from fakes.contacts.router import build_app as build_contacts_app
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app as build_posthog_app
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app as build_sentry_app
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app as build_vercel_app
from rollout.clients.http import NetlifyAPI, PostHogAPI, VercelAPI
from rollout.release.flags import INTERNAL_ENV_FLAG, ROLLOUT_ENV, FlagEnv, FlagMode
from sim.rng import Streams
from sim.scenario.model import Scenario
from sim.world.faults import FaultSchedule
from sim.world.pager import Pager, build_pager_app
from sim.world.transport import InProcessTransport

VERCEL = "http://vercel.drill"
NETLIFY = "http://netlify.drill"
DOCKER = "http://docker.drill"
POSTHOG = "http://posthog.drill"
SENTRY = "http://sentry.drill"
CONTACTS = "http://contacts.drill"
PAGER = "http://pager.drill"
VERCEL_TOKEN = "drill_vercel_token"
NETLIFY_TOKEN = "drill_netlify_token"
WEBHOOK_SECRET = "drill-webhook-secret"
PROJECT_NAME = "contacts-web"
DAY = 86400.0


DOWN = LiveBuild("down", "", False, FlagEnv(None, None), down=True)


@dataclass
class Backends:
    """The fakes of the runbook's world, seeded, on one clock; no HTTP wiring."""

    vercel: VercelBackend
    posthog: PostHogBackend
    sentry: SentryBackend
    project_id: str
    flag_key: str
    flag_mode: FlagMode
    internal_ids: list[str]
    netlify: Any = None
    site_id: str = ""
    docker: Any = None
    docker_env: dict[str, str] = field(default_factory=dict)
    app_stopped: bool = False
    _build: LiveBuild | None = field(default=None, repr=False)

    def live_build(self) -> LiveBuild:
        """What production serves now (a data-plane read, no HTTP): the Vercel production
        alias, the Netlify site's published deploy, or the healthy Docker container;
        a down build when the app is stopped or no container serves."""
        if self.app_stopped:
            return DOWN
        if self.docker is not None:
            return self._container_build()
        d = self.netlify.published_deploy(self.site_id) if self.netlify is not None \
            else self.vercel.production_deployment(self.project_id)
        if self._build is None or self._build.deployment_id != d.id:
            mode = d.meta.get("flagMode")
            self._build = LiveBuild(d.id, str(d.meta.get("version", "")),
                                    d.meta.get("hasRedesign", True) in (True, "true"),
                                    FlagEnv.from_mapping(d.env or {}),
                                    flag_mode=FlagMode(mode) if mode else None)
        return self._build

    def _container_build(self) -> LiveBuild:
        serving = self.docker.serving()
        if serving is None:
            return DOWN
        if self._build is None or self._build.deployment_id != serving["image"]:
            self._build = LiveBuild(serving["image"], str(serving["version"]),
                                    serving["hasRedesign"] in (True, "true"),
                                    FlagEnv.from_mapping(self.docker_env))
        return self._build


    def flag_version(self) -> object:
        """Identity of the PostHog flag as clients fetch it now (None when it is absent)."""
        flag = self.posthog.flag_by_key(self.flag_key)
        return None if flag is None else (flag.id, flag.version)

    def flag_definition(self) -> dict[str, Any] | None:
        """The PostHog flag definition clients fetch now, or None when it is absent."""
        flag = self.posthog.flag_by_key(self.flag_key)
        return None if flag is None else flag.definition()

    def contacts_backend(self) -> ContactsBackend:
        """The Contacts app serving what these backends serve."""
        return ContactsBackend(self.vercel.clock, self.flag_mode, self.live_build,
                               lambda uid: _remote_flag(self.posthog, self.flag_key, uid),
                               self.internal_ids)


def seed_backends(scenario: Scenario, clock: Clock, streams: Streams, internal_ids: list[str],
                  webhook_url: str | None) -> Backends:
    """Create the runbook's world for ``scenario``: deployments, env, flag, alert rule."""
    vercel, project_id = _vercel(scenario, clock, streams)
    backends = Backends(vercel, _posthog(scenario, clock),
                        _sentry(scenario, clock, webhook_url), project_id,
                        scenario.flag.posthog.key, FlagMode(scenario.flag.mode), internal_ids)
    if scenario.world.platform == "netlify":
        backends.netlify, backends.site_id = seed_netlify(scenario, clock, streams)
    if scenario.world.platform == "docker":
        backends.docker, backends.docker_env = seed_docker(scenario, clock)
    return backends


def seed_docker(scenario: Scenario, clock: Clock) -> tuple[Any, dict[str, str]]:
    """A Docker host serving ``logos-vision-crm:current`` (healthy for an hour), the
    registry holding ``previous`` too; returns (backend, the env baked into the images)."""
    from fakes.docker.backend import DockerBackend

    docker = DockerBackend(clock)
    docker.seed_service("logos-vision-crm:current")
    env = scenario.flag.env
    values = {INTERNAL_ENV_FLAG: env.VITE_FEATURE_CONTACTS_REDESIGN,
              ROLLOUT_ENV: env.VITE_ROLLOUT_PERCENTAGE}
    return docker, {k: v for k, v in values.items() if v is not None}


@dataclass
class World(Backends):
    """The fakes of one drill and the HTTP client that reaches them."""

    contacts: ContactsBackend | None = None
    transport: InProcessTransport | None = None
    http: httpx.Client = field(default_factory=httpx.Client)
    app_repo: Any = None
    ci: Any = None
    database: Any = None
    pulse: Any = None
    sync: Any = None
    comms: Any = None
    mock_data: bool = False
    releases: tuple[str, str] = ("", "")
    _repo_dir: str | None = None

    def vercel_api(self) -> VercelAPI:
        return VercelAPI(self.http, VERCEL, VERCEL_TOKEN, self.vercel.team.id)

    def docker_api(self) -> Any:
        from rollout.rollback.docker import DockerEngine

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
            shutil.rmtree(self._repo_dir, ignore_errors=True)
        if self.database is not None:
            self.database.close()

    def attach_git(self, scenario: Scenario, streams: Streams) -> None:
        """The app's real repository, its origin and the CI a push triggers (git paths):
        the seeded deployments are marked with their release commits."""
        from sim.world.apprepo import create_app_repo
        from sim.world.ci import CIPipeline

        w, c = scenario.world, scenario.ci
        self._repo_dir = tempfile.mkdtemp(prefix="drill-repo-")
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


def build_world(scenario: Scenario, clock: Clock, streams: Streams, internal_ids: list[str],
                on_alert: Callable[[dict[str, Any]], None],
                on_rejected: Callable[[str], None], faults: FaultSchedule) -> World:
    """Create and seed every fake for ``scenario`` on ``clock``, wired for in-process HTTP.

    Each vendor app gets a fault injector on the drill's clock, loaded with the
    scenario's API faults for that vendor.
    """
    b = seed_backends(scenario, clock, streams, internal_ids, f"{PAGER}/sentry-webhook")
    contacts = b.contacts_backend()
    seed = int(streams.get("api_faults").integers(0, 2**31))

    def injector(service: str) -> FaultInjector:
        return FaultInjector(clock, seed, rules=faults.rules_for(service))

    from sim.drills.commander import CommsFakes

    comms = CommsFakes.create(clock)
    apps: dict[str, AppSpec] = dict(comms.app_specs())
    if scenario.pulse is not None:
        from fakes.pulse.backend import PulseBackend
        from fakes.pulse.router import build_app as build_pulse_app

        pulse = PulseBackend(clock, int(streams.get("pulse").integers(0, 2**31)),
                             contacts=scenario.pulse.contacts)
        for f in faults.pulse_faults:
            pulse.set_fault(f.fault, start=f.at, end=f.until, **f.params)
        apps["pulse.drill"] = (build_pulse_app, pulse, None)
    if b.docker is not None:
        from fakes.docker.router import build_app as build_docker_app

        apps["docker.drill"] = (build_docker_app, b.docker, injector("docker"))
    if b.netlify is not None:
        from fakes.netlify.router import build_app as build_netlify_app

        apps["netlify.drill"] = (build_netlify_app, b.netlify, injector("netlify"))
    transport = InProcessTransport(_apps({
        **apps,
        "vercel.drill": (build_vercel_app, b.vercel, injector("vercel")),
        "posthog.drill": (build_posthog_app, b.posthog, injector("posthog")),
        "sentry.drill": (build_sentry_app, b.sentry, injector("sentry")),
        "contacts.drill": (build_contacts_app, contacts, None),
        "pager.drill": (build_pager_app, Pager(WEBHOOK_SECRET, on_alert, on_rejected), None)}))
    world = World(b.vercel, b.posthog, b.sentry, b.project_id, b.flag_key, b.flag_mode,
                  b.internal_ids, b.netlify, b.site_id, b.docker, b.docker_env, False, None,
                  contacts, transport, httpx.Client(transport=transport, timeout=None))
    if scenario.pulse is not None:
        world.pulse = pulse
    world.comms = comms
    return world


def _vercel(scenario: Scenario, clock: Clock, streams: Streams) -> tuple[VercelBackend, str]:
    w = scenario.world
    build_rng, queue_rng = streams.get("vercel.build_time"), streams.get("vercel.queue_time")
    vercel = VercelBackend(clock, token=VERCEL_TOKEN,
                           build_time=lambda: w.build_time.sample(build_rng),
                           queue_time=lambda: w.queue_time.sample(queue_rng),
                           alias_propagation=w.alias_propagation)
    project = vercel.create_project(PROJECT_NAME)
    vercel.create_deployment(project.id, target="production", ready_at=-7 * DAY,
                             meta=_meta(w.previous.version, w.previous.has_redesign))
    env = scenario.flag.env
    vercel.create_project_env(project.id, INTERNAL_ENV_FLAG, env.VITE_FEATURE_CONTACTS_REDESIGN,
                              type="plain", target=["production"])
    if env.VITE_ROLLOUT_PERCENTAGE is not None:
        vercel.create_project_env(project.id, ROLLOUT_ENV, env.VITE_ROLLOUT_PERCENTAGE,
                                  type="plain", target=["production"])
    if scenario.pulse is not None:
        vercel.create_project_env(project.id, "VITE_PULSE_SYNC_ENABLED", "true",
                                  type="plain", target=["production"])
    vercel.create_deployment(project.id, target="production", ready_at=-1 * DAY,
                             meta=_meta(w.current.version, w.current.has_redesign))
    return vercel, project.id


def seed_netlify(scenario: Scenario, clock: Clock, streams: Streams) -> tuple[Any, str]:
    """A Netlify site like the Vercel project: previous and current production deploys
    (the current one built with the ``VITE_*`` variables), returns (backend, site id)."""
    from fakes.netlify.backend import NetlifyBackend

    w = scenario.world
    build_rng, queue_rng = streams.get("netlify.build_time"), streams.get("netlify.queue_time")
    netlify = NetlifyBackend(clock, token=NETLIFY_TOKEN,
                             build_time=lambda: w.build_time.sample(build_rng),
                             queue_time=lambda: w.queue_time.sample(queue_rng),
                             publish_propagation=w.alias_propagation)
    site = netlify.create_site(PROJECT_NAME)
    netlify.create_deploy(site.id, ready_at=-7 * DAY, commit_ref="v" + w.previous.version,
                          meta=_meta(w.previous.version, w.previous.has_redesign))
    env = scenario.flag.env
    values = {INTERNAL_ENV_FLAG: env.VITE_FEATURE_CONTACTS_REDESIGN,
              ROLLOUT_ENV: env.VITE_ROLLOUT_PERCENTAGE}
    netlify.create_env_vars("drill", [
        {"key": k, "scopes": ["builds"], "values": [{"value": v, "context": "all"}]}
        for k, v in values.items() if v is not None], site_id=site.id)
    netlify.create_deploy(site.id, ready_at=-1 * DAY, commit_ref="v" + w.current.version,
                          meta=_meta(w.current.version, w.current.has_redesign))
    return netlify, site.id


def _meta(version: str, has_redesign: bool) -> dict[str, Any]:
    return {"version": version, "hasRedesign": has_redesign,
            "githubCommitRef": "main", "githubCommitMessage": f"release {version}"}


def _posthog(scenario: Scenario, clock: Clock) -> PostHogBackend:
    spec = scenario.flag.posthog
    posthog = PostHogBackend(clock)
    posthog.create_feature_flag(spec.key, "Contacts redesign", spec.active,
                                {"groups": [{"properties": [],
                                             "rollout_percentage": spec.rollout_percentage}]})
    return posthog


def _remote_flag(posthog: PostHogBackend, key: str, user_id: str) -> bool | None:
    # posthog-js, once flags loaded, answers isFeatureEnabled with !!getFeatureFlag(key):
    # a flag left out of /flags (inactive, deleted) reads as false, not undefined.
    result = posthog.evaluate_flags(user_id, flag_keys=[key]).get(key)
    return bool(result.enabled) if result is not None else False


def _sentry(scenario: Scenario, clock: Clock, webhook_url: str | None) -> SentryBackend:
    m = scenario.monitoring
    sentry = SentryBackend(clock, webhook_secret=WEBHOOK_SECRET, webhook_url=webhook_url)
    sentry.evaluation_interval = m.evaluation_interval
    a = m.alert
    sentry.create_alert_rule({
        "name": a.name, "aggregate": a.aggregate, "query": a.query,
        "dataset": "events" if a.aggregate == "count()" else "metrics",
        "timeWindow": a.time_window / 60, "thresholdType": 0 if a.threshold_type == "above" else 1,
        "resolveThreshold": a.resolve_threshold, "environment": m.environment,
        "projects": [sentry.project_slug], "thresholdPeriod": a.threshold_period,
        "triggers": [{"label": "critical", "alertThreshold": a.threshold,
                      "actions": [{"type": "sentry_app", "targetType": "sentry_app",
                                   "targetIdentifier": "drill-pager"}]}]})
    return sentry


class Rebindable:
    """Stands in for a backend inside an app built once and reused by later drills.

    Building the fakes' FastAPI apps costs more than a whole drill, so each thread builds
    them once, over a stand-in; every drill points the stand-in at its own backends.
    """

    __slots__ = ("_target",)

    def __init__(self) -> None:
        object.__setattr__(self, "_target", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_target"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, value)

    def bind(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)


_APPS = threading.local()


AppSpec = tuple[Callable[[Any], Any], Any, FaultInjector | None]


def _apps(specs: dict[str, AppSpec]) -> dict[str, Any]:
    """This thread's apps per host, rebound to the given backend and fault injector."""
    pool: dict[str, tuple[Any, Rebindable, Rebindable]] = _APPS.__dict__.setdefault("pool", {})
    for host, (build, backend, faults) in specs.items():
        if host not in pool:
            stand_in, injector = Rebindable(), Rebindable()
            app = build(stand_in)
            if faults is not None:
                install(app, injector)  # type: ignore[arg-type]
            pool[host] = (app, stand_in, injector)
        pool[host][1].bind(backend)
        pool[host][2].bind(faults)
    return {host: pool[host][0] for host in specs}
