"""Who is paged during a drill's incident and how they acknowledge: ``IncidentSpec``.

The incident commander (``sim.drills.commander``) reads it: an acknowledgement delay per
escalation level (a sampler over the incident's random stream; None: that level never
acknowledges), the policy's escalation timeout, the update and monitoring periods, and
the names that fill the runbook's Emergency Contacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rollout.incident.escalation import ACK_DELAY, Contacts

AckDelay = Callable[[np.random.Generator], float | None]


def acks_after(seconds: float) -> AckDelay:
    """An ``ack_delay`` sampler: the page is always acknowledged ``seconds`` after it."""
    return lambda rng: seconds


def nobody_acks(rng: np.random.Generator) -> float | None:
    """An ``ack_delay`` sampler: nobody ever acknowledges the page."""
    return None


@dataclass(frozen=True)
class IncidentSpec:
    """How the incident's people behave: ``ack_delay(rng)`` is seconds from the first page
    to the Incident Lead's acknowledgement (None: never), ``escalated_ack_delay(rng)`` the
    same for a level paged by escalation, ``escalation_timeout`` how long each level has
    before the next is paged (it must be the PagerDuty service's policy: the fake's default
    is ``ACK_DELAY``); names fill the runbook's [Name]."""

    ack_delay: AckDelay = field(default=acks_after(120.0))
    escalated_ack_delay: AckDelay = field(default=acks_after(120.0))
    escalation_timeout: float = ACK_DELAY
    update_interval: float = 900.0
    monitoring_period: float = 1800.0
    incident_lead: str = "Incident Lead"
    devops_lead: str = "DevOps Lead"
    cto: str = "CTO"
    restore_timeframe: str = "1 week"

    @property
    def contacts(self) -> Contacts:
        return Contacts(self.incident_lead, self.devops_lead, self.cto)
