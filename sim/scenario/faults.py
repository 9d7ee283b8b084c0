"""The fault kinds a scenario injects, and the one table of them.

Each fault model carries its ``kind`` as a one-value Literal; ``Fault`` is their
discriminated union, and ``FAULT_MODELS``/``FAULT_KINDS`` are derived from it, so the
loader's allowed values and any dispatch read one list. Adding a fault kind = a model
here, added to ``Fault``, and what the world does with it (``sim.world.faults``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, model_validator

from fakes.pulse.errors import InvalidRequest
from fakes.pulse.faults import make_fault
from sim.scenario.units import Dist, DistSpec, Duration, _Frozen


class ErrorSpike(_Frozen):
    """From ``at`` (until ``until``) the Contacts page fails at ``error_rate``.

    It hits the given ``variants`` (default: the new page) of the given ``releases``
    (default: the current release). A fault in the old page too means rolling back does
    not help.
    """

    kind: Literal["error_spike"]
    at: Duration
    until: Duration | None = None
    error_rate: float = Field(ge=0, le=1)
    crash: bool = False
    releases: tuple[str, ...] | None = None
    variants: tuple[Literal["new", "old"], ...] = ("new",)
    latency_median_ms: float | None = Field(default=None, gt=0)
    exc_type: str = "TypeError"
    message: str = "Cannot read properties of undefined (reading 'map')"


class PostHogOutage(_Frozen):
    """From ``at`` to ``until`` browsers cannot load PostHog flags: ``isFeatureEnabled``
    is undefined and the runbook's fallback (the env flag) decides exposure."""

    kind: Literal["posthog_outage"]
    at: Duration
    until: Duration | None = None


class ApiFault(_Frozen):
    """From ``at`` to ``until`` a vendor API fails ``operation`` (an endpoint name, or
    ``*``) with ``status`` at ``error_rate``: e.g. a rollback API that is down."""

    kind: Literal["api_fault"]
    service: Literal["vercel", "netlify", "docker", "posthog", "sentry"]
    operation: str = "*"
    at: Duration = 0.0
    until: Duration | None = None
    error_rate: float = Field(default=1.0, ge=0, le=1)
    status: int = Field(default=503, ge=400, le=599)


class PulseFault(_Frozen):
    """From ``at`` to ``until`` the Pulse API misbehaves: one of the fake Pulse's failure
    modes (``fault``) with its parameters (``params``, e.g. ``{rate: 0.6}``)."""

    kind: Literal["pulse_fault"]
    fault: Literal["error_rate", "timeout", "rate_limit", "malformed", "mis_mapped", "missing",
                   "corruption"]
    at: Duration
    until: Duration | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _params_valid(self) -> PulseFault:
        """The params the fake Pulse would accept, checked by its own validator now rather
        than when the drill sets the fault; raises ValueError naming the param."""
        check_pulse_params(self.fault, self.params)
        return self

    def __hash__(self) -> int:  # the dict field would make the frozen model unhashable
        return hash((self.fault, self.at, self.until, repr(sorted(self.params.items()))))


class FlagMigration(_Frozen):
    """At ``at`` the team moves control from the env percentage to the PostHog flag at the
    same percentage: a build shipping the remote form of ``shouldShowNewContacts`` is
    deployed. PostHog's sha1 buckets are not the runbook's hashCode buckets, so users flip
    between versions mid-test; the drill counts them."""

    kind: Literal["flag_migration"]
    at: Duration


class Report(_Frozen):
    """A person reports a problem (not a metric): ``delay`` after ``at`` someone pages
    on-call about ``trigger``. Scenario 1's triggers are critical, Scenario 2's not."""

    kind: Literal["report"]
    at: Duration
    delay: Dist = DistSpec(dist="lognormal", median=600.0, sigma=0.6)
    trigger: Literal["app_crash", "data_corruption", "data_loss", "security", "error_rate",
                     "database_connection", "page_load", "cpu_memory", "slow_queries",
                     "user_complaints", "ui_bug"]
    text: str = ""
    by: str = "a user"


Fault = Annotated[ErrorSpike | PostHogOutage | ApiFault | PulseFault | FlagMigration | Report,
                  Field(discriminator="kind")]


# Set by the fault's own fields (at, until), never through params.
_TIMING_PARAMS = ("kind", "start", "end")


def check_pulse_params(fault: str, params: dict[str, Any]) -> None:
    """Raises ValueError ("params.<name>: why") when the fake Pulse would refuse ``params``
    for ``fault`` (fakes/pulse/faults.py ``make_fault``, the same rules as its API)."""
    for name in _TIMING_PARAMS:
        if name in params:
            raise ValueError(f"params.{name}: set by the fault's 'at' and 'until', "
                             "not in params")
    for name, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"params.{name}: must be a finite number (got {value!r})")
    try:
        make_fault({"kind": fault, **params}, 0, 0.0)
    except InvalidRequest as exc:
        where = f"params.{exc.param}" if getattr(exc, "param", None) else "params"
        raise ValueError(f"{where}: {exc.message}") from None
    except (TypeError, ValueError) as exc:  # a value the fake's checks cannot compare
        raise ValueError(f"params: {exc}") from None


def _kind_of(model: type[BaseModel]) -> str:
    """The one value of a fault model's ``kind`` Literal."""
    (kind,) = get_args(model.model_fields["kind"].annotation)
    return str(kind)


FAULT_MODELS: tuple[type[BaseModel], ...] = get_args(get_args(Fault)[0])
FAULT_KINDS: dict[str, type[BaseModel]] = {_kind_of(m): m for m in FAULT_MODELS}
