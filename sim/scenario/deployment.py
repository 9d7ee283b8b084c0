"""What runs where when the drill starts: the ``world``, ``ci``, ``database`` and ``pulse``
sections.

The deployment platform and its releases, the CI a git push triggers, the Contacts
database and how it is rolled back, and the Pulse CRM the app syncs from.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from sim.scenario.limits import MAX_VERSION
from sim.scenario.paths import Platform
from sim.scenario.refname import tag_problem
from sim.scenario.units import Dist, DistSpec, Duration, _Frozen


class Release(_Frozen):
    """A build of the app: its version and whether it contains the redesigned page."""

    version: str = Field(min_length=1, max_length=MAX_VERSION)
    has_redesign: bool = True

    @field_validator("version")
    @classmethod
    def _tag(cls, value: str) -> str:
        problem = tag_problem(value)
        if problem:  # the release is tagged v<version> in the app's real repository
            raise ValueError(f"git refuses the tag 'v{value}': it {problem} "
                             "(see git check-ref-format)")
        return value


class ApiLatency(_Frozen):
    """What one control-plane HTTP call costs its caller, in seconds (the round trip),
    per vendor: ``default`` for every vendor the scenario does not name.

    The default, lognormal(median 0.25 s, sigma 0.5) (p95 ≈ 0.57 s), is the round trip
    openstatus measured to warm Vercel functions from six regions (p50 246 ms, p95
    563 ms; openstatus.dev/blog/monitoring-latency-vercel-edge-vs-serverless, March
    2024). No vendor publishes its control-plane API's latency: it is a default to
    measure (``curl -w '%{time_total}'`` against your vendors' APIs), not a vendor fact.
    """

    default: Dist = DistSpec(dist="lognormal", median=0.25, sigma=0.5)
    vercel: Dist | None = None
    netlify: Dist | None = None
    docker: Dist | None = None
    posthog: Dist | None = None
    sentry: Dist | None = None
    pulse: Dist | None = None
    slack: Dist | None = None
    statuspage: Dist | None = None
    pagerduty: Dist | None = None
    contacts: Dist | None = None

    def of(self, vendor: str) -> DistSpec:
        """The latency distribution of ``vendor``'s API (``default`` when unnamed)."""
        named = getattr(self, vendor, None) if vendor in type(self).model_fields else None
        return named if isinstance(named, DistSpec) else self.default


def _coerce_latency(value: Any) -> Any:
    # A duration or one distribution applies to every vendor.
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"default": value}
    if isinstance(value, dict) and "dist" in value:
        return {"default": value}
    return value


class World(_Frozen):
    """The deployment platform and what is deployed when the drill starts, the
    platform's own timings, and what each control-plane call costs.

    ``queue_time``: Vercel queues a build only while the plan's concurrent builds are
    busy (vercel.com/docs/builds/build-queues); with none running, what is left is
    provisioning, lognormal(median 5 s) by default — measure it from your builds' logs.
    ``alias_propagation`` (Netlify's publish uses it too): "traffic reroutes to the older
    deployment in about a second" (vercel.com/academy/vercel-foundations/deployments);
    the spread (sigma 0.5) is ours.
    """

    platform: Platform = "vercel"
    previous: Release = Release(version="1.9.0", has_redesign=False)
    current: Release = Release(version="2.0.0", has_redesign=True)
    build_time: Dist = DistSpec(dist="lognormal", median=90.0, sigma=0.3)
    queue_time: Dist = DistSpec(dist="lognormal", median=5.0, sigma=0.5)
    alias_propagation: Dist = DistSpec(dist="lognormal", median=1.0, sigma=0.5)
    api_latency: Annotated[ApiLatency, BeforeValidator(_coerce_latency)] = ApiLatency()

    @model_validator(mode="after")
    def _two_releases(self) -> World:
        if self.previous.version == self.current.version:  # one tag cannot name both
            raise ValueError("current.version: must differ from previous.version")
        return self


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


class PulseSpec(_Frozen):
    """The Pulse CRM the app syncs contacts from, and the app's sync job."""

    contacts: int = Field(default=300, ge=1, le=100_000)
    sync_interval: Duration = 300.0
    page_size: int = Field(default=100, ge=1, le=200)
