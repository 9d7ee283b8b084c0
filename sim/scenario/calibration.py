"""Where a scenario's timing inputs came from: the ``calibration`` section.

``drill calibrate`` writes an overlay (``sim.calibrate.overlay``) that sets timing
distributions and lists, in ``calibration``, each one's provenance: which vendor API it
was read from, how many samples, their date range, and the fit's goodness
(Kolmogorov–Smirnov statistic and p-value); or, for an input copied from the team's
configuration (their Sentry alert rule), where it was copied from. The section changes
nothing the drill simulates (``sim.results.writer.digest_of`` leaves it out); the
reports name every calibrated input beside those left at their defaults
(``sim.results.inputs``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from sim.scenario.units import _Frozen

#: The timing inputs a calibration may set (dotted scenario paths), and what each is.
TIMING_INPUTS: dict[str, str] = {
    "world.build_time": "the platform's build, start to ready",
    "world.queue_time": "the platform's queue, creation to build start",
    "world.alias_propagation": "an alias swap or publish taking effect",
    "ci.build_time": "the CI checks' build",
    "incident.ack_delay": "page to acknowledgement, first level",
    "incident.escalated_ack_delay": "page to acknowledgement, levels paged by escalation",
    "incident.escalation_timeout": "how long a level has to acknowledge",
    "responder.decision_delay": "acknowledgement to rollback decision",
    "responder.step_time": "one manual step of a rollback",
    "responder.escalation_delay": "deciding to escalate",
    "responder.investigation_time": "investigating before a hotfix",
}


#: Inputs copied, not fitted, from the team's vendor configuration.
COPIED_INPUTS: dict[str, str] = {
    "monitoring.alert": "the Sentry metric alert rule (aggregate, query, window, threshold)",
    "flag.posthog": "the PostHog flag definition (key, active, rollout percentage)",
    "traffic.error_rate_old": "the baseline error rate, from Sentry's sessions",
}


class CalibratedInput(_Frozen):
    """One calibrated input: the field it set and the history it was fitted to."""

    field: str
    source: str = Field(min_length=1, max_length=300)
    n: int = Field(ge=1)
    first: datetime
    last: datetime
    family: str = Field(min_length=1, max_length=40)  # "copied" for a copied input
    ks_statistic: float | None = Field(default=None, ge=0, le=1)  # None: not fitted
    ks_pvalue: float | None = Field(default=None, ge=0, le=1)
    interval: str = Field(default="", max_length=300)  # the parameters' 95 % intervals

    @model_validator(mode="after")
    def _known(self) -> CalibratedInput:
        if self.field not in TIMING_INPUTS and self.field not in COPIED_INPUTS:
            raise ValueError(f"field: {self.field!r} is not a timing input; allowed: "
                             + ", ".join([*TIMING_INPUTS, *COPIED_INPUTS]))
        if self.first > self.last:
            raise ValueError("first: must not be after last")
        return self
