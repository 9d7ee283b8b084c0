"""The scenario model: what a drill file may say, validated into frozen typed objects.

The engine accepts only a ``Scenario``; ``sim.scenario.loader`` turns a YAML file into one (or one
clear error naming the file and the field). Every default restates the runbook or a
vendor's documented behaviour; anything the model cannot know (how fast your team
decides, how long your build takes) is a field the scenario sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.errors import ScenarioError
from sim.scenario.rollout import RolloutPlan, StagingDrill
from sim.scenario.units import Dist, DistSpec, Duration, _Frozen

RollbackPath = Literal["posthog-flag-disable", "vercel-env-var", "vercel-rollback",
                       "netlify-env-var", "netlify-restore", "netlify-rollback",
                       "git-revert", "git-force-push-tag", "docker-compose",
                       "database-rollback", "pulse-sync-response"]
Aggregate = Literal[
    "count()",
    "percentage(sessions_errored, sessions)",
    "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
]


class Population(_Frozen):
    """Who uses the app: how many users, how many of them are internal."""

    users: int = Field(default=20_000, ge=1, le=20_000_000)
    internal_users: int = Field(default=25, ge=0)
    activity_sigma: float = Field(default=1.0, ge=0, le=4,
                                  description="spread of per-user activity (lognormal sigma)")
    sample_names: int = Field(default=5, ge=0, le=100)


class Latency(_Frozen):
    """Page load time of one variant, lognormal, in milliseconds."""

    median_ms: float = Field(default=900.0, gt=0)
    sigma: float = Field(default=0.5, ge=0, le=3)


class Traffic(_Frozen):
    """Visits to /contacts: a daily cycle, page views per visit, errors and latency."""

    visits_per_user_per_day: float = Field(default=3.0, gt=0)
    daily_amplitude: float = Field(default=0.6, ge=0, le=1)
    peak_hour_utc: float = Field(default=15.0, ge=0, lt=24)
    pageviews_per_visit: float = Field(default=3.0, ge=1)
    error_rate_old: float = Field(default=0.002, ge=0, le=1)
    error_rate_new: float = Field(default=0.002, ge=0, le=1)
    latency_old: Latency = Latency(median_ms=900.0)
    latency_new: Latency = Latency(median_ms=800.0)


class FlagEnvSpec(_Frozen):
    """The VITE_* variables set on the platform for production builds."""

    VITE_FEATURE_CONTACTS_REDESIGN: str = "true"
    VITE_ROLLOUT_PERCENTAGE: str | None = "10"


class PostHogFlagSpec(_Frozen):
    """The PostHog flag ``contacts_redesign`` as it is defined when the drill starts."""

    key: str = "contacts_redesign"
    active: bool = True
    rollout_percentage: float = Field(default=10.0, ge=0, le=100)


class Release(_Frozen):
    """A build of the app: its version and whether it contains the redesigned page."""

    version: str
    has_redesign: bool = True


class World(_Frozen):
    """The deployment platform and what is deployed when the drill starts."""

    platform: Literal["vercel", "netlify", "docker"] = "vercel"
    previous: Release = Release(version="1.9.0", has_redesign=False)
    current: Release = Release(version="2.0.0", has_redesign=True)
    build_time: Dist = DistSpec(dist="lognormal", median=90.0, sigma=0.3)
    queue_time: Dist = DistSpec(dist="fixed", value=5.0)
    alias_propagation: Duration = 3.0


class CISpec(_Frozen):
    """The CI a push to main triggers (git paths): runners, checks' build time, and how
    the remote guards main. Vercel's own build follows it (``world.build_time``)."""

    runners: int = Field(default=1, ge=1, le=64)
    build_time: Dist = DistSpec(dist="lognormal", median=120.0, sigma=0.3)
    branch_protection: Literal["none", "reject-all", "deny-force-push"] = "none"
    follow_up_fix: bool = False


COST_FIELDS = ("stop_app_s", "backup_fixed_s", "backup_rows_per_s", "restore_fixed_s",
               "restore_rows_per_s", "migration_fixed_s", "ddl_statement_s",
               "drop_column_rows_per_s", "verify_s", "restart_app_s", "integrity_rows_per_s")


class DatabaseSpec(_Frozen):
    """The Contacts database: where it is, how big the scenario says it is, how users
    write to it, and how the database rollback is done (backup, order, restore)."""

    dsn: str | None = None
    contacts_rows: int = Field(default=50_000, ge=0)
    seed_rows: int = Field(default=1_000, ge=1, le=100_000)
    write_rate: float = Field(default=0.05, ge=0, le=1)
    create_share: float = Field(default=0.3, ge=0, le=1)
    backup: bool = True
    order: Literal["stop-then-backup", "backup-then-stop"] = "stop-then-backup"
    restore_from_backup: bool = False
    broken_down_migration: Literal["001", "002", "003"] | None = None
    cost: dict[str, float] = Field(default_factory=dict)

    @field_validator("cost")
    @classmethod
    def _known_costs(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(COST_FIELDS))
        if unknown:
            raise ValueError(f"unknown cost {', '.join(unknown)}; allowed: "
                             + ", ".join(COST_FIELDS))
        if any(v < 0 for v in value.values()):
            raise ValueError("costs are seconds or rates >= 0")
        return value

    def __hash__(self) -> int:  # the dict field would make the frozen model unhashable
        return hash((self.dsn, self.contacts_rows, self.seed_rows, self.write_rate,
                     tuple(sorted(self.cost.items()))))


class FlagControl(_Frozen):
    """Which form of ``shouldShowNewContacts`` the deployed app runs, and its inputs."""

    mode: Literal["internal", "percentage", "remote"] = "remote"
    env: FlagEnvSpec = FlagEnvSpec()
    posthog: PostHogFlagSpec = PostHogFlagSpec()


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


class PulseSpec(_Frozen):
    """The Pulse CRM the app syncs contacts from, and the app's sync job."""

    contacts: int = Field(default=300, ge=1, le=100_000)
    sync_interval: Duration = 300.0
    page_size: int = Field(default=100, ge=1, le=200)


CRASH_RATE_WINDOWS_MIN = (30, 60, 120, 240, 720, 1440)


class AlertRule(_Frozen):
    """A Sentry metric alert rule, as created through the alert-rules API."""

    name: str = "Contacts error rate > 5%"
    aggregate: Aggregate = "percentage(sessions_errored, sessions)"
    query: str = ""
    time_window: Duration = 300.0
    threshold: float = Field(default=5.0, ge=0)
    threshold_type: Literal["above", "below"] = "above"
    threshold_period: int = Field(default=1, ge=1, le=20)
    resolve_threshold: float | None = None

    @field_validator("time_window")
    @classmethod
    def _whole_minutes(cls, value: float) -> float:
        if value < 60 or value % 60 or value > 86400:
            raise ValueError("Sentry time windows are whole minutes, 1m to 1d")
        return value

    @model_validator(mode="after")
    def _crash_rate_rules(self) -> AlertRule:
        # Sentry's crash-rate alerts report the crash-free % and take fixed windows only.
        if self.aggregate.endswith("_crash_rate_alert_aggregate"):
            if self.time_window / 60 not in CRASH_RATE_WINDOWS_MIN:
                raise ValueError("time_window: crash-rate alerts take one of "
                                 + ", ".join(f"{w}m" for w in CRASH_RATE_WINDOWS_MIN))
            if self.threshold_type != "below":
                raise ValueError("threshold_type: crash-rate alerts watch the crash-free %, "
                                 "so the threshold is 'below'")
        return self


class Monitoring(_Frozen):
    """How errors reach Sentry and how its alert rules are evaluated."""

    environment: str = "production"
    sdk_flush_interval: Duration = 60.0
    ingest_latency: Duration = 2.0
    evaluation_interval: Duration = 60.0
    alert: AlertRule = AlertRule()

    @field_validator("evaluation_interval", "sdk_flush_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be > 0 seconds")
        return value


class Responder(_Frozen):
    """Who answers the alert, how long deciding takes, and which way back they take."""

    mode: Literal["human", "automated"] = "human"
    decision_delay: Dist = DistSpec(dist="lognormal", median=75.0, sigma=0.5)
    step_time: Dist = DistSpec(dist="lognormal", median=20.0, sigma=0.4)
    automation_latency: Duration = 1.0
    path: RollbackPath = "posthog-flag-disable"
    flag_disable_how: Literal["inactive", "zero"] = "inactive"
    force_push_as_written: bool = True
    fallback_path: RollbackPath | None = None
    investigation_time: Dist = DistSpec(dist="uniform", low=3600.0, high=7200.0)
    hotfix: Literal["available", "unavailable"] = "available"
    hotfix_version: str = "2.0.1"
    escalation_delay: Dist = DistSpec(dist="lognormal", median=300.0, sigma=0.4)
    poll_interval: Duration = 5.0


class IncidentComms(_Frozen):
    """The people and channels of the incident: paging, Slack, the status page."""

    ack_delay: Dist | None = DistSpec(dist="lognormal", median=120.0, sigma=0.5)
    update_interval: Duration = 900.0
    monitoring_period: Duration = 1800.0
    incident_lead: str = "Incident Lead"
    devops_lead: str = "DevOps Lead"
    cto: str = "CTO"


class Targets(_Frozen):
    """The runbook's "Rollback Metrics" table; a scenario may tighten or loosen it."""

    time_to_detect_s: float = Field(default=300.0, gt=0)
    time_to_decision_s: float = Field(default=120.0, gt=0)
    time_to_rollback_s: float = Field(default=300.0, gt=0)
    affected_users_pct: float = Field(default=10.0, ge=0, le=100)
    data_loss: int = Field(default=0, ge=0)
    repeat_incidents: int = Field(default=0, ge=0)


GateMetric = Literal["time_to_detect_s", "time_to_decision_s", "time_to_rollback_s",
                     "affected_users_pct", "data_loss", "repeat_incidents"]
DEFAULT_MIN_PASS_RATE: dict[GateMetric, float | None] = {
    "time_to_detect_s": 0.9, "time_to_decision_s": 0.9, "time_to_rollback_s": 0.9}


class Gate(_Frozen):
    """What ``drill check`` requires of this scenario over a sweep of seeds.

    ``min_pass_rate`` maps a metric to the share of runs that must meet its target; the
    keys given are merged onto the defaults (each timing target 0.9), and ``null`` lifts a
    requirement. ``p95_tolerance`` is how much worse than the baseline a metric's p95 may
    be (0.10: 10 %). ``runs`` is the sweep size ``drill check`` and ``drill baseline`` use.
    """

    runs: int = Field(default=100, ge=1, le=1_000_000)
    min_pass_rate: dict[GateMetric, Annotated[float, Field(ge=0, le=1)] | None] = Field(
        default_factory=lambda: dict(DEFAULT_MIN_PASS_RATE))
    p95_tolerance: float = Field(default=0.10, ge=0)

    @field_validator("min_pass_rate", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        return {**DEFAULT_MIN_PASS_RATE, **value} if isinstance(value, dict) else value

    def required(self) -> dict[str, float]:
        """The metrics with a pass-rate requirement, and the rate each must reach."""
        return {k: v for k, v in self.min_pass_rate.items() if v is not None}

    def __hash__(self) -> int:  # the dict field would make the frozen model unhashable
        return hash((self.runs, tuple(sorted(self.min_pass_rate.items())), self.p95_tolerance))


class Scenario(_Frozen):
    """One drill: the world at the start, the traffic, the faults, who responds, targets."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = ""
    seed: int = Field(default=1, ge=0)
    start: datetime = datetime(2026, 1, 25, 14, 0, tzinfo=UTC)
    horizon: Duration = 6 * 3600.0
    tick: Duration = 10.0
    population: Population = Population()
    traffic: Traffic = Traffic()
    world: World = World()
    ci: CISpec = CISpec()
    database: DatabaseSpec | None = None
    pulse: PulseSpec | None = None
    incident: IncidentComms = IncidentComms()
    flag: FlagControl = FlagControl()
    faults: tuple[Fault, ...] = ()
    monitoring: Monitoring = Monitoring()
    responder: Responder = Responder()
    targets: Targets = Targets()
    gate: Gate = Gate()
    rollout: RolloutPlan | None = None
    staging: StagingDrill | None = None

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        check_rollout(self)
        platform = self.world.platform
        path = self.responder.path
        if path == "pulse-sync-response" and self.pulse is None:
            raise ValueError("responder.path: 'pulse-sync-response' needs a pulse section")
        if any(f.kind == "pulse_fault" for f in self.faults) and self.pulse is None:
            raise ValueError("faults: a pulse_fault needs a pulse section")
        if path == "database-rollback" and self.database is None:
            raise ValueError("responder.path: 'database-rollback' needs a database section")
        if path == "docker-compose" and platform != "docker":
            raise ValueError("responder.path: 'docker-compose' needs world.platform 'docker'")
        if path.startswith("git-") and platform != "vercel":
            raise ValueError("responder.path: the git paths deploy through the CI to Vercel; "
                             "set world.platform to 'vercel'")
        if path.split("-")[0] in ("vercel", "netlify") and not path.startswith(platform):
            raise ValueError(f"responder.path: '{path}' needs world.platform "
                             f"'{path.split('-')[0]}' (the app is deployed on {platform})")
        if self.tick <= 0:
            raise ValueError("tick: must be > 0 seconds")
        if self.horizon < self.tick:
            raise ValueError("horizon: must be at least one tick")
        if self.population.internal_users > self.population.users:
            raise ValueError("population.internal_users: cannot exceed population.users")
        for i, fault in enumerate(self.faults):
            if fault.at >= self.horizon and fault.kind != "api_fault":
                raise ValueError(
                    f"faults.{i}.at: must fall before the horizon ({self.horizon:g} s)")
            until = getattr(fault, "until", None)
            if until is not None and until <= fault.at:
                raise ValueError(f"faults.{i}.until: must be after faults.{i}.at")
        return self


def required_section(scenario: Scenario, name: str) -> Any:
    """The scenario's ``rollout`` or ``staging`` section, checked again (a drill may get a
    scenario changed with ``model_copy``, which skips validation); raises ScenarioError."""
    section = getattr(scenario, name)
    if section is None:
        raise ScenarioError(scenario.name, name, f"this drill needs a {name} section")
    try:
        check_rollout(scenario)
    except ValueError as exc:
        field_name, _, message = str(exc).partition(": ")
        raise ScenarioError(scenario.name, field_name, message) from None
    return section


def check_rollout(scenario: Scenario) -> None:
    """The rules that span sections; raises ValueError naming the field (for
    ``Scenario``'s model validator)."""
    plan, staging = scenario.rollout, scenario.staging
    if plan is not None and staging is not None:
        raise ValueError("staging: a scenario is a rollout drill or a staging drill, not both")
    if plan is None and staging is None:
        return
    if scenario.world.platform != "vercel":
        section = "rollout" if plan is not None else "staging"
        raise ValueError(f"world.platform: the {section} drill deploys on Vercel")
    if plan is None:
        return
    phases = [*plan.phases, *(plan.fix.phases if plan.fix else ())]
    for i, phase in enumerate(phases):
        where = f"rollout.phases.{i}" if i < len(plan.phases) else \
            f"rollout.fix.phases.{i - len(plan.phases)}"
        if scenario.flag.mode == "internal" and phase.exposure != "internal":
            raise ValueError(f"{where}.exposure: flag.mode 'internal' (the phase-1 form of "
                             "shouldShowNewContacts) can show the page to internal users only")
        if phase.look_every < scenario.tick:
            raise ValueError(f"{where}.look_every: must be at least one tick "
                             f"({scenario.tick:g} s)")
