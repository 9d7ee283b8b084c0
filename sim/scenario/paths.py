"""The rollback paths: one registry every part of the harness reads.

A path is one ``PathSpec`` in ``PATHS``: its name (the scenario's ``responder.path``), the
platform and the scenario section it needs (scenario validation), the runbook's time
estimate (reports), how the Slack notification describes it (comms), and the analytic
model of its time to rollback (``sim.results.bounds``). The drill side — the procedure
that starts a path in a drill — is keyed by the same names in ``sim.drills.paths``, which
refuses to import when the two disagree.

This module is pure data, so the scenario model can validate path names without
importing the drills or the world. Adding a path = one entry here + its procedure
(``rollout.rollback``) and its starter in ``sim.drills.paths``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from rollout.incident.comms import RollbackAction
from rollout.rollback.runbook import RunbookEstimate

Platform = Literal["vercel", "netlify", "docker"]
Section = Literal["database", "pulse"]
PlatformTime = Literal["redeploy", "alias-swap"]
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True, kw_only=True)
class ManualSteps:
    """A closed form of a path's time to rollback: ``steps`` manual steps, ``calls``
    control-plane calls to ``api`` (the vendor's name) up to and including the one that
    changes what users get, each costing ``world.api_latency``, then what the platform
    adds (``redeploy``: queue + build; ``alias-swap``: the alias propagation)."""

    steps: int
    then: PlatformTime | None
    calls: int = 0
    api: str | None = None

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"a path takes at least one manual step (got {self.steps})")
        if self.then is not None and self.then not in get_args(PlatformTime):
            raise ValueError(f"then: one of {', '.join(get_args(PlatformTime))} or None")


@dataclass(frozen=True, kw_only=True)
class PathSpec:
    """One rollback path; every field must be given (``None`` says "not needed" or "no
    closed form", never "forgotten"). Raises TypeError for a missing field and ValueError
    for a malformed one."""

    name: str
    platform: Platform | None  # None: works on any platform
    section: Section | None  # the scenario section the path needs
    uses_app_repo: bool  # pushes to the app's git repo (the drill attaches repo and CI)
    estimate: RunbookEstimate
    comms: RollbackAction
    bound: ManualSteps | None  # None: no closed form

    def __post_init__(self) -> None:
        if not self.name or not set(self.name) <= _NAME_CHARS:
            raise ValueError(f"a path name is lowercase words joined by '-' (got {self.name!r})")
        self._check(self.platform, Platform, "platform")
        self._check(self.section, Section, "section")
        self._check_type(self.estimate, RunbookEstimate, "estimate")
        self._check_type(self.comms, RollbackAction, "comms")
        if self.bound is not None:
            self._check_type(self.bound, ManualSteps, "bound")

    def _check(self, value: str | None, allowed: object, field: str) -> None:
        if value is not None and value not in get_args(allowed):
            raise ValueError(f"{self.name}: {field} is one of "
                             f"{', '.join(get_args(allowed))} or None (got {value!r})")

    def _check_type(self, value: object, cls: type, field: str) -> None:
        if not isinstance(value, cls):
            raise ValueError(f"{self.name}: {field} must be a {cls.__name__}")


def _registry(*specs: PathSpec) -> Mapping[str, PathSpec]:
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"rollback paths registered twice: {', '.join(twice)}")
    return MappingProxyType({s.name: s for s in specs})


_OPTION_A = "Option A: Feature Flag Disable — 30 seconds - 2 minutes"
_OPTION_A_ENV = f"{_OPTION_A} (checklist: 2-3 minutes incl. 1-2 minutes propagation)"
_FLAG_OFF = "Feature flag disable initiated"
_PREVIOUS = "Rollback to previous version initiated"

# The order is the order scenario errors list the allowed paths in.
PATHS = _registry(
    PathSpec(name="posthog-flag-disable", platform=None, section=None, uses_app_repo=False,
             estimate=RunbookEstimate(30.0, 120.0, _OPTION_A),
             comms=RollbackAction(f"{_FLAG_OFF} (PostHog contacts_redesign)", 2),
             bound=ManualSteps(steps=2, then=None, calls=2, api="posthog")),
    PathSpec(name="vercel-env-var", platform="vercel", section=None, uses_app_repo=False,
             estimate=RunbookEstimate(30.0, 120.0, _OPTION_A_ENV),
             comms=RollbackAction(f"{_FLAG_OFF} (Vercel env var, redeploy)", 2),
             bound=ManualSteps(steps=3, then="redeploy", calls=5, api="vercel")),
    PathSpec(name="vercel-rollback", platform="vercel", section=None, uses_app_repo=False,
             estimate=RunbookEstimate(120.0, 300.0, "Option B: Revert Deployment — 2-5 minutes"),
             comms=RollbackAction(f"{_PREVIOUS} (vercel rollback)", 5),
             bound=ManualSteps(steps=2, then="alias-swap", calls=6, api="vercel")),
    PathSpec(name="netlify-env-var", platform="netlify", section=None, uses_app_repo=False,
             estimate=RunbookEstimate(30.0, 120.0, _OPTION_A_ENV),
             comms=RollbackAction(f"{_FLAG_OFF} (Netlify env var, redeploy)", 2),
             bound=None),
    PathSpec(name="netlify-restore", platform="netlify", section=None, uses_app_repo=False,
             estimate=RunbookEstimate(120.0, 300.0, "Option B: Revert Deployment (Netlify: "
                                      "Deploys → Previous deploy → Publish) — 2-5 minutes"),
             comms=RollbackAction(f"{_PREVIOUS} (Netlify restore)", 5),
             bound=None),
    PathSpec(name="netlify-rollback", platform="netlify", section=None, uses_app_repo=False,
             estimate=RunbookEstimate(120.0, 300.0, "Option B: Revert Deployment "
                                      "(`netlify rollback`) — 2-5 minutes"),
             comms=RollbackAction(f"{_PREVIOUS} (netlify rollback)", 5),
             bound=None),
    PathSpec(name="git-revert", platform="vercel", section=None, uses_app_repo=True,
             estimate=RunbookEstimate(300.0, 600.0, "Option C: Git Revert — 5-10 minutes "
                                      "(includes build time)"),
             comms=RollbackAction("Git revert of the deployment commit initiated", 10),
             bound=None),
    PathSpec(name="git-force-push-tag", platform="vercel", section=None, uses_app_repo=True,
             estimate=RunbookEstimate(600.0, 1200.0, "Database Rollback step 5: git checkout "
                                      "<previous-version-tag>; git push origin main --force "
                                      "(within the 10-20 minutes of the database rollback)"),
             comms=RollbackAction("Previous version tag force-pushed to main", 10),
             bound=None),
    PathSpec(name="docker-compose", platform="docker", section=None, uses_app_repo=False,
             estimate=RunbookEstimate(120.0, 300.0, "Option B: Revert Deployment (Docker: "
                                      "docker-compose down / pull :previous / up -d) — 2-5 "
                                      "minutes"),
             comms=RollbackAction(f"{_PREVIOUS} (docker-compose)", 5),
             bound=None),
    PathSpec(name="database-rollback", platform=None, section="database", uses_app_repo=False,
             estimate=RunbookEstimate(600.0, 1200.0, "Database Rollback — 10-20 minutes "
                                      "(checklist: 15-20 minutes)"),
             comms=RollbackAction("Database rollback initiated (migrate.sh --rollback)", 20),
             bound=None),
    PathSpec(name="pulse-sync-response", platform=None, section="pulse", uses_app_repo=False,
             estimate=RunbookEstimate(30.0, 120.0, "Scenario 3: disable automatic sync "
                                      "(VITE_PULSE_SYNC_ENABLED=false) — no estimate given; "
                                      "Option A's 30 seconds - 2 minutes"),
             comms=RollbackAction("Rollback initiated via pulse-sync-response", 5),
             bound=None),
)
PATH_NAMES: tuple[str, ...] = tuple(PATHS)


def path_spec(name: str | None) -> PathSpec:
    """The registered path called ``name``; raises KeyError listing the registered ones."""
    try:
        return PATHS[name or ""]
    except KeyError:
        raise KeyError(f"no rollback path {name!r}; registered: {', '.join(PATHS)}") from None
