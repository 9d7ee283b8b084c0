"""Who responds and how they communicate: the ``responder`` and ``incident`` sections.

``responder.path`` (and ``fallback_path``) name a rollback path of the registry in
``sim.scenario.paths``; the allowed values come from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sim.scenario.paths import PATH_NAMES
from sim.scenario.units import Dist, DistSpec, Duration, _Frozen

if TYPE_CHECKING:
    RollbackPath = str
else:  # the registry's names, validated (and listed in errors) as a Literal
    RollbackPath = Literal[PATH_NAMES]

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
