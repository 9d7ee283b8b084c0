"""What a gate sees at a look: the fakes' records turned into the gates' inputs.

Phases 1 and 2 read PostHog's side (``AnalyticsStore``: page views, ``$exception``
events, web vitals and per-person engagement by variant); phase 3 reads the error rate
from Sentry's release health over the last check interval (the sessions API, over HTTP);
every phase asks Sentry's issue list for new crash issues on the new page. Nothing here
reads the simulator's own draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fakes.common.clock import to_datetime
from rollout.clients.sentry import SentryAPI
from rollout.release.abtest import Look, Plan
from rollout.release.gates import GateDecision, phase1_gate, phase2_gate, phase3_gate
from rollout.release.plan import incident_issue, new_critical_issues
from rollout.release.samples import Arms, Counts, Sample
from rollout.release.sequential import BoundaryMethod, SpendingConvention
from sim.drills.rollout_traffic import NEW, OLD, AnalyticsStore
from sim.scenario.rollout import Phase, RolloutPlan
from sim.world.fakes import SENTRY, World


@dataclass
class PhaseWatch:
    """One phase's reads so far: when its exposure went live, and its phase-2 looks."""

    phase: Phase
    since: float
    looks: list[Look] = field(default_factory=list)


class GateReader:
    """Reads the fakes into each gate's inputs and returns its decision."""

    def __init__(self, world: World, store: AnalyticsStore, is_internal: np.ndarray,
                 plan: RolloutPlan, environment: str) -> None:
        self.world, self.store, self.plan = world, store, plan
        self.is_internal = is_internal
        self.environment = environment
        self.sentry = SentryAPI(world.http, SENTRY, world.sentry.auth_token, world.sentry.org)

    def decide(self, watch: PhaseWatch, now: float, release: str,
               critical: list[str]) -> GateDecision:
        """The gate of ``watch.phase`` at ``now`` (``critical``: new crash issues)."""
        phase = watch.phase
        if phase.gate == "phase1":
            errors, latency = self.store.window(NEW, watch.since, now)
            return phase1_gate(errors, latency if latency.n else None, len(critical),
                               self.plan.confidence, phase.looks)
        if phase.gate == "phase2":
            watch.looks.append(self._look(watch, now))
            return phase2_gate(watch.looks, self._ab_plan(phase))
        errors = Counts(*self.sentry.session_counts(min(phase.look_every, now - watch.since),
                                                    query=f"release:{release}",
                                                    environment=self.environment))
        _, latency = self.store.window(NEW, max(watch.since, now - phase.look_every), now)
        return phase3_gate(errors, latency if latency.n else None, len(critical),
                           confidence=self.plan.confidence, checks=phase.looks)

    def _ab_plan(self, phase: Phase) -> Plan:
        share = 0.5 if phase.exposure == "internal" else float(phase.exposure) / 100
        return Plan(looks=phase.looks, alpha=self.plan.alpha,
                    method=BoundaryMethod(self.plan.boundary),
                    spending=SpendingConvention(self.plan.spending),
                    treatment_share=min(max(share, 0.01), 0.99))

    def _look(self, watch: PhaseWatch, now: float) -> Look:
        """The A/B test's cumulative data: internal users are not randomized, so they are
        left out of the per-person metrics (PostHog's "filter out internal users")."""
        p = self.store.people
        exposed = (p.variant >= 0) & ~self.is_internal
        arms = [exposed & (p.variant == v) for v in (OLD, NEW)]
        windows = [self.store.window(v, watch.since, now) for v in (OLD, NEW)]

        def per_person(values: np.ndarray) -> Arms[Sample]:
            return Arms(Sample.of(values[arms[OLD]]), Sample.of(values[arms[NEW]]))

        with np.errstate(divide="ignore", invalid="ignore"):
            mean_session = np.where(p.sessions > 0, p.duration_s / np.maximum(p.sessions, 1),
                                    0.0)
        data: dict[str, Arms[Sample] | Arms[Counts]] = {
            "session_duration": per_person(mean_session),
            "contacts_viewed": per_person(p.contacts),
            "actions_completed": per_person(p.actions),
            "page_load": Arms(windows[OLD][1], windows[NEW][1]),
            "error_rate": Arms(windows[OLD][0], windows[NEW][0]),
        }
        return Look(Arms(int(arms[OLD].sum()), int(arms[NEW].sum())), data)

    def critical_bugs(self, since: float, now: float) -> list[str]:
        """New crash issues on the new page since ``since`` (Sentry's issue list): issues
        of unhandled errors (``error.unhandled:true``), what a page crash sends."""
        issues = self.sentry.issues("is:unresolved error.unhandled:true",
                                    max(60.0, now - since))
        return new_critical_issues(issues, to_datetime(self.world.sentry.clock, since))

    def incident_issue(self, since: float, now: float) -> dict[str, Any] | None:
        """The issue behind an incident: the most frequent one new since ``since``."""
        issues = self.sentry.issues("is:unresolved", max(60.0, now - since))
        return incident_issue(issues, to_datetime(self.world.sentry.clock, since))

    def recurred(self, issue_id: str, release: str, since: float, now: float) -> bool:
        """Whether the incident's issue has events from ``release`` since ``since``."""
        issues = self.sentry.issues(f"is:unresolved release:{release}", max(60.0, now - since))
        return any(i["id"] == issue_id for i in issues)


def gate_record(watch: PhaseWatch, look: int, decision: GateDecision) -> dict[str, Any]:
    """The journal fields of one gate decision (phase 2 adds the α-spending verdict)."""
    out: dict[str, Any] = {"phase": watch.phase.name, "gate": watch.phase.gate, "look": look,
                           "looks": watch.phase.looks}
    v = decision.verdict
    if v is not None:
        out |= {"method": v.method, "alpha": v.alpha, "alpha_spent": float(f"{v.alpha_spent:.4g}"),
                "boundary_z": round(v.boundary, 4) if v.boundary != float("inf") else None,
                "nominal_p": float(f"{v.nominal_p:.4g}"),
                "information_fraction": round(v.fraction, 4),
                "decided_at_look": v.look}
    return out
