"""Who responds and how they communicate: the ``responder`` and ``incident`` sections.

A human responder is paged first: the alert triggers PagerDuty, the policy pages the
Incident Lead, and each level has ``incident.escalation_timeout`` to acknowledge before
the next level (DevOps Lead, then CTO) is paged; every level's acknowledgement takes a
draw of ``ack_delay`` (``escalated_ack_delay`` for the levels paged by escalation), and
the decision delay starts only at the acknowledgement. ``ack_delay: null`` means the
first level never acknowledges. The automated responder acts on the alert's webhook
itself and waits for no acknowledgement.

``responder.path`` (and ``fallback_path``) name a rollback path of the registry in
``sim.scenario.paths``; the allowed values come from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from sim.scenario.paths import PATH_NAMES
from sim.scenario.units import Dist, DistSpec, Duration, _Frozen

if TYPE_CHECKING:
    RollbackPath = str
else:  # the registry's names, validated (and listed in errors) as a Literal
    RollbackPath = Literal[PATH_NAMES]

class Responder(_Frozen):
    """Who answers the alert, how long deciding takes, and which way back they take.

    ``decision_delay`` runs from the page's acknowledgement (human) to the decision; the
    automated mode decides ``automation_latency`` after the alert's webhook, unpaged.
    """

    mode: Literal["human", "automated"] = "human"
    decision_delay: Dist = DistSpec(dist="lognormal", median=75.0, sigma=0.5)
    step_time: Dist = DistSpec(dist="lognormal", median=20.0, sigma=0.4)
    automation_latency: Duration = 1.0
    path: RollbackPath = "posthog-flag-disable"
    # The runbook's Option A says "Set to 0%". "inactive" leaves the flag out of /flags:
    # posthog-js answers undefined and the runbook's code falls back to the env flag.
    flag_disable_how: Literal["inactive", "zero"] = "zero"
    force_push_as_written: bool = True
    fallback_path: RollbackPath | None = None
    investigation_time: Dist = DistSpec(dist="uniform", low=3600.0, high=7200.0)
    hotfix: Literal["available", "unavailable"] = "available"
    hotfix_version: str = "2.0.1"
    escalation_delay: Dist = DistSpec(dist="lognormal", median=300.0, sigma=0.4)
    poll_interval: Duration = 5.0


DEFAULT_ACK_DELAY = DistSpec(dist="lognormal", median=120.0, sigma=0.5)


class IncidentComms(_Frozen):
    """The people and channels of the incident: paging, Slack, the status page."""

    ack_delay: Dist | None = DEFAULT_ACK_DELAY
    #: The levels paged by escalation; None: as ``ack_delay`` (or, when that is null,
    #: its default distribution).
    escalated_ack_delay: Dist | None = None
    #: PagerDuty's ``escalation_delay_in_minutes`` of each escalation rule: how long a
    #: level has to acknowledge before the incident escalates to the next level. The
    #: default is the PagerDuty web app's ("escalates after 30 min"; Escalation Policy
    #: Basics, support.pagerduty.com/docs/escalation-policies). A team's own policy is
    #: not in the runbook: a scenario should state it.
    escalation_timeout: Duration = Field(default=1800.0, gt=0)
    update_interval: Duration = 900.0
    monitoring_period: Duration = 1800.0
    incident_lead: str = "Incident Lead"
    devops_lead: str = "DevOps Lead"
    cto: str = "CTO"

    def level_ack_delay(self, level: int) -> Dist | None:
        """The acknowledgement delay of escalation ``level`` (1-based); None: never."""
        if level == 1:
            return self.ack_delay
        return self.escalated_ack_delay or self.ack_delay or DEFAULT_ACK_DELAY
