"""Who uses the app and how: the ``population``, ``traffic`` and ``flag`` sections.

How many users (and internal ones), their visits, page views, error rates and page
load times per variant, and which form of ``shouldShowNewContacts`` decides what
page each user sees.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.units import Duration, _Frozen


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
    """Visits to /contacts: a daily cycle, page views per visit, errors and latency; the
    window affected users are a share of, and how long a visit lasts."""

    visits_per_user_per_day: float = Field(default=3.0, gt=0)
    daily_amplitude: float = Field(default=0.6, ge=0, le=1)
    peak_hour_utc: float = Field(default=15.0, ge=0, lt=24)
    pageviews_per_visit: float = Field(default=3.0, ge=1)
    error_rate_old: float = Field(default=0.002, ge=0, le=1)
    error_rate_new: float = Field(default=0.002, ge=0, le=1)
    latency_old: Latency = Latency(median_ms=900.0)
    latency_new: Latency = Latency(median_ms=800.0)
    # How affected users are counted (sim.results.impact): the share of the users active
    # over [onset, onset + affected_window) -- by default the day from the onset -- whom
    # the incident impacted; and what an impacted visit costs in user-minutes. Both are
    # defaults the model cannot know: state your own (your analytics' visit length).
    affected_window: Duration = Field(default=86400.0, gt=0)
    visit_duration: Duration = Field(default=300.0, gt=0)


class FlagEnvSpec(_Frozen):
    """The VITE_* variables set on the platform for production builds."""

    VITE_FEATURE_CONTACTS_REDESIGN: str = "true"
    VITE_ROLLOUT_PERCENTAGE: str | None = "10"


class PostHogFlagSpec(_Frozen):
    """The PostHog flag ``contacts_redesign`` as it is defined when the drill starts."""

    key: str = "contacts_redesign"
    active: bool = True
    rollout_percentage: float = Field(default=10.0, ge=0, le=100)


class FlagClient(_Frozen):
    """How the app reads the PostHog flag in the browser (posthog-js).

    posthog-js answers ``isFeatureEnabled`` from the flags it persisted (localStorage) at
    the user's previous page load until this load's ``/flags`` request returns (recorded in
    ``tests/fakes/browser/test_browser_sdks.py``). ``reads: render`` (default, the runbook's
    code: ``shouldShowNewContacts`` is called while rendering, nothing subscribes) keeps
    that first render, so the page load shows the persisted value; ``subscribe`` (the app
    re-renders from ``onFeatureFlags``) shows the fresh value tens of ms later.

    ``persisted_share`` is the share of users whose browser holds posthog-js's persisted
    flags when the drill starts (they used the app in this browser before); the others
    read ``undefined`` (the env flag decides) until a ``/flags`` answer reaches them. The
    default 1 is a default: the model cannot know it (it is the share of the day's users
    not on a first visit from this browser, a private window or cleared storage).
    """

    reads: Literal["render", "subscribe"] = "render"
    persisted_share: float = Field(default=1.0, ge=0, le=1)


DEFAULT_FLAG_EXPORT = "shouldShowNewContacts"  # the runbook's src/utils/featureFlags.ts


class FlagControl(_Frozen):
    """Which form of ``shouldShowNewContacts`` the deployed app runs, and its inputs.

    ``module`` (a ``featureFlags.ts`` or ``.js``, relative to the scenario file; the loader
    makes it absolute) runs the app's own flag function in Node instead of the Python port
    (``sim.world.flag_module``); ``export`` names the function (default the runbook's
    ``shouldShowNewContacts``). ``mode`` still says which form the port compares against
    and whether the build reads the PostHog flag. Both are left out of a scenario's dump
    when unset (``sim.results.writer.scenario_dump``), so digests stay as they were.
    """

    mode: Literal["internal", "percentage", "remote"] = "remote"
    env: FlagEnvSpec = FlagEnvSpec()
    posthog: PostHogFlagSpec = PostHogFlagSpec()
    client: FlagClient = FlagClient()
    module: str | None = Field(default=None, min_length=1, max_length=4096)
    export: str | None = Field(default=None, pattern=r"^[A-Za-z_$][A-Za-z0-9_$]*$",
                               max_length=200)

    @model_validator(mode="after")
    def _export_needs_module(self) -> FlagControl:
        if self.export is not None and self.module is None:
            raise ValueError("export: names a function of flag.module; set flag.module too")
        return self

    @property
    def export_name(self) -> str:
        """The flag function the module exports (``export`` or the runbook's name)."""
        return self.export or DEFAULT_FLAG_EXPORT
