"""The descriptor each fake vendor exports, so one loop can stand up any of them.

A ``Vendor`` says how to create its backend as the runbook's world has it when a drill
starts (``create``, from a ``Start``), the ASGI app over that backend (``app``: it imports
the router only when called, so reading a descriptor loads no web framework), the
variables ``drill serve`` prints and writes for it, whether it is served over TLS, and
what its host runs beside it (periodic jobs, webhooks, retimable knobs). Every
``fakes/<vendor>/vendor.py`` defines one; ``fakes.vendors.VENDORS`` lists them all.

Seeding reads the scenario through the protocols below (only the fields it uses), so
the fakes need nothing from the harness that defines scenarios.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from fakes.common.clock import Clock
from fakes.common.serving import Serving

if TYPE_CHECKING:
    from fastapi import FastAPI


B = TypeVar("B")
PROJECT_NAME = "contacts-web"  # the app's Vercel project, Netlify site and Sentry project
DAY = 86400.0
Job = tuple[str, float, Callable[[], object]]  # (name, period in virtual s, the work)
Timings = Mapping[str, tuple[Callable[[], float], Callable[[float], None]]]


class Sampler(Protocol):
    def sample(self, rng: np.random.Generator) -> float: ...


class ReleaseSpec(Protocol):
    @property
    def version(self) -> str: ...
    @property
    def has_redesign(self) -> bool: ...


class PlatformSpec(Protocol):
    """The hosting platform's side of a scenario (``scenario.world``)."""

    @property
    def platform(self) -> str: ...
    @property
    def previous(self) -> ReleaseSpec: ...
    @property
    def current(self) -> ReleaseSpec: ...
    @property
    def build_time(self) -> Sampler: ...
    @property
    def queue_time(self) -> Sampler: ...
    @property
    def alias_propagation(self) -> Sampler: ...


class BuildEnvSpec(Protocol):
    @property
    def VITE_FEATURE_CONTACTS_REDESIGN(self) -> str: ...
    @property
    def VITE_ROLLOUT_PERCENTAGE(self) -> str | None: ...


class RemoteFlagSpec(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def rollout_percentage(self) -> float: ...


class FlagSpec(Protocol):
    @property
    def env(self) -> BuildEnvSpec: ...
    @property
    def posthog(self) -> RemoteFlagSpec: ...


class AlertSpec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def aggregate(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def time_window(self) -> float: ...
    @property
    def threshold(self) -> float: ...
    @property
    def threshold_type(self) -> str: ...
    @property
    def threshold_period(self) -> int: ...
    @property
    def resolve_threshold(self) -> float | None: ...
    def payload(self, environment: str | None, project: str,
                actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The body of Sentry's create-alert-rule request for this rule."""


class MonitoringSpec(Protocol):
    @property
    def environment(self) -> str: ...
    @property
    def evaluation_interval(self) -> float: ...
    @property
    def alert(self) -> AlertSpec: ...


class PulseSetupSpec(Protocol):
    @property
    def contacts(self) -> int: ...


class RunbookScenario(Protocol):
    """The parts of a scenario that say how the runbook's world looks at the start."""

    @property
    def world(self) -> PlatformSpec: ...
    @property
    def flag(self) -> FlagSpec: ...
    @property
    def monitoring(self) -> MonitoringSpec: ...
    @property
    def pulse(self) -> PulseSetupSpec | None: ...


class Delivery(Protocol):
    """A webhook a backend queued for its host to POST."""

    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> bytes: ...


@dataclass(frozen=True)
class Start:
    """What a backend is stood up from: the one clock, the scenario, the run's named
    random streams, where Sentry's alert webhook goes, and (for the Contacts app) what
    production serves."""

    clock: Clock
    scenario: RunbookScenario
    streams: Callable[[str], np.random.Generator]
    webhook_url: str | None = None
    serving: Serving | None = None


def _always(scenario: RunbookScenario) -> bool:
    return True


def _no_jobs(backend: object) -> list[Job]:
    return []


def _no_app_options(live: bool) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Vendor(Generic[B]):
    """One fake vendor, as the drill world, the incident commander and ``drill serve``
    stand it up.

    ``app(backend, live)`` builds the ASGI app of ``fakes/<name>/router.py`` over the
    backend; ``live`` is True under ``drill serve`` (a clock that advances by itself) and
    ``app_options(live)`` says what the router's ``build_app`` makes of it (Docker follows
    its event stream live; the others take no options). ``env(backend, base_url)``: the
    variables real tools read. ``in_drill``: whether a drill of the scenario has this
    vendor. ``api_faults``: a scenario's ``api_fault`` may target it (a drill puts a fault
    injector in front); ``own_faults``: it has its own ``/_fake/faults`` (``drill serve``
    adds none). ``ca_cert_env``: served over TLS, and the variable naming the CA
    certificate clients must trust.
    """

    name: str
    create: Callable[[Start], B]
    env: Callable[[B, str], dict[str, str]]
    in_drill: Callable[[RunbookScenario], bool] = _always
    api_faults: bool = False
    own_faults: bool = False
    ca_cert_env: str | None = None
    timings: Callable[[B], Timings] | None = None
    jobs: Callable[[B], list[Job]] = _no_jobs
    webhooks: Callable[[B], list[Delivery]] | None = None
    app_options: Callable[[bool], dict[str, Any]] = _no_app_options

    def app(self, backend: B, live: bool) -> FastAPI:
        """The vendor's ASGI app over ``backend``; its router (and the web framework) is
        imported only now, so reading a descriptor loads neither."""
        router = importlib.import_module(f"fakes.{self.name}.router")
        app: FastAPI = router.build_app(backend, **self.app_options(live))
        return app

    @property
    def tls(self) -> bool:
        return self.ca_cert_env is not None

    def host(self, domain: str) -> str:
        """Its host name under ``domain`` (``vercel.drill``)."""
        return f"{self.name}.{domain}"
