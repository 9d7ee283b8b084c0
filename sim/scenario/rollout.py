"""The scenario sections of the gradual-rollout and staging drills.

``rollout`` (``RolloutPlan``): the runbook's phases with their gates and look schedules,
how users engage with each page and the new page's true effects, what a NO-GO does, and
optionally the fix and gradual re-rollout after a rollback (``FixPlan``). ``staging``
(``StagingDrill``): the pre-deployment rollback drill on a staging project. Both are
frozen and forbid unknown keys, like the rest of ``sim.scenario.model``.

The new page's error rate and page-load time are the scenario's ``traffic.error_rate_new``
and ``traffic.latency_new`` against ``traffic.error_rate_old``/``latency_old`` (a "+0.3
pp" regression is ``error_rate_new = error_rate_old + 0.003``); the engagement effects
live here. The rules that span sections are ``sim.scenario.model.check_rollout``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.units import Duration, _Frozen

Gate = Literal["phase1", "phase2", "phase3"]
DAY = 86400.0
HOUR = 3600.0


class Phase(_Frozen):
    """One exposure step: who sees the new page, which gate judges it and how often.

    ``exposure`` is ``internal`` (internal users only) or a percentage (internal users are
    always included). Looks fall every ``look_every`` after the exposure is live, the last
    one at ``duration``. ``looks`` is the number of looks the phase-2 test plans for
    (default: duration / look_every). With ``advance_early`` a GO before the last look
    moves on at once (the A/B test stopped); otherwise the phase runs its full length.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    exposure: Literal["internal"] | Annotated[float, Field(gt=0, le=100)]
    gate: Gate
    duration: Duration
    look_every: Duration
    advance_early: bool = False

    @model_validator(mode="after")
    def _schedule(self) -> Phase:
        if self.look_every <= 0:
            raise ValueError("look_every: must be > 0 seconds")
        if self.duration < self.look_every:
            raise ValueError("duration: must hold at least one look (>= look_every)")
        return self

    @property
    def looks(self) -> int:
        return int(self.duration // self.look_every + 1e-9)


RUNBOOK_PHASES = (
    Phase(name="internal", exposure="internal", gate="phase1", duration=7 * DAY,
          look_every=DAY),
    Phase(name="ab-test", exposure=50.0, gate="phase2", duration=7 * DAY, look_every=DAY),
    Phase(name="full", exposure=100.0, gate="phase3", duration=48 * HOUR, look_every=2 * HOUR),
)
"""Phase 1 internal users (week 1, daily checks), phase 2 50 % A/B (week 2, daily looks),
phase 3 100 % (48 h watch, checks every 2 h)."""

RE_ROLLOUT_PHASES = (
    Phase(name="re-10", exposure=10.0, gate="phase1", duration=2 * DAY, look_every=DAY),
    Phase(name="re-50", exposure=50.0, gate="phase2", duration=3 * DAY, look_every=DAY),
    Phase(name="re-100", exposure=100.0, gate="phase3", duration=48 * HOUR,
          look_every=2 * HOUR),
)
"""Post-Rollback Actions: gradual re-rollout 10 % → 50 % → 100 %, with the same gates."""


class Engagement(_Frozen):
    """One visit to the old page: session duration (lognormal), contacts viewed and
    actions completed (Poisson means)."""

    session_median_s: float = Field(default=120.0, gt=0)
    session_sigma: float = Field(default=0.8, ge=0, le=3)
    contacts_viewed: float = Field(default=4.0, ge=0)
    actions_completed: float = Field(default=0.0, ge=0)


class Effects(_Frozen):
    """The new page's true effects on engagement: relative lifts of session duration and
    contacts viewed, and its own actions completed per visit (the old page has none)."""

    session_duration_lift: float = Field(default=0.30, gt=-1)
    contacts_viewed_lift: float = Field(default=0.40, gt=-1)
    actions_completed: float = Field(default=1.0, ge=0)


class FixPlan(_Frozen):
    """Post-Rollback Actions: a fix released as ``release``, deployed ``deploy_after`` the
    rollback, then re-rolled out through ``phases``.

    ``fix_completeness`` is how much of the fault the fix removes: 1 fixes it; below 1 the
    same fault recurs on the fix release at ``error_rate × (1 − fix_completeness)``, and
    the more users the re-rollout exposes the sooner it shows.
    """

    release: str = "2.0.1"
    fix_completeness: float = Field(default=1.0, ge=0, le=1)
    deploy_after: Duration = DAY
    phases: tuple[Phase, ...] = Field(default=RE_ROLLOUT_PHASES, min_length=1)


class RolloutPlan(_Frozen):
    """The gradual rollout: phases, gates' statistics, true effects, NO-GO handling, fix.

    ``alpha`` is the phase-2 family-wise α (spent over the looks, O'Brien–Fleming type, by
    ``boundary``; ``spending`` per side as gsDesign does, or ``pooled``); ``confidence``
    the level of the phase-1 and phase-3 limit checks (split over a phase's looks).
    ``on_no_go`` says what a NO-GO in phases 1 and 2 does: ``off`` (the feature off) or
    ``hold`` (stay, stop the rollout); in phase 3 a NO-GO is the runbook's emergency
    rollback by ``responder.path``.
    """

    phases: tuple[Phase, ...] = Field(default=RUNBOOK_PHASES, min_length=1)
    engagement: Engagement = Engagement()
    effects: Effects = Effects()
    alpha: float = Field(default=0.05, gt=0, lt=1)
    boundary: Literal["exact", "bonferroni"] = "exact"
    spending: Literal["per-side", "pooled"] = "per-side"
    confidence: float = Field(default=0.95, gt=0, lt=1)
    on_no_go: Literal["off", "hold"] = "off"
    fix: FixPlan | None = None


class StagingDrill(_Frozen):
    """Rollback Testing: the pre-deployment rollback drill on a staging project.

    The staging project (``project``, serving ``domain``) starts on ``world.previous``;
    the drill deploys ``world.current``, enables the flag, verifies the new page as
    ``verify_user`` (default: the first internal user), disables it, verifies the old page,
    then ``vercel rollback`` to ``rollback_to``: the ``pre-release`` deployment (the URL
    the runbook's command names) or the ``previous`` one (the command without a URL).
    Each way back is timed from the decision to rollback complete against
    ``targets.time_to_rollback_s``.
    """

    project: str = Field(default="contacts-web-staging", pattern=r"^[a-z0-9][a-z0-9._-]*$")
    domain: str = "staging.logosvision.com"
    verify_user: str | None = None
    rollback_to: Literal["pre-release", "previous"] = "pre-release"
