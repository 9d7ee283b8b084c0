"""The runbook's go/no-go gates for phases 1, 2 and 3.

``phase2_gate`` reads the A/B test's verdicts look by look (``rollout.release.abtest``)
and stops at the first decisive one; ``phase1_gate`` and ``phase3_gate`` check the
error rate and the page-load p95 against the runbook's limits by one-sided bounds,
Bonferroni-split over the checks made in the phase. A gate answers go (True), no-go
(False) or keep collecting (None), always with its reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from rollout.release.abtest import (
    DEFAULT_PLAN,
    P95_LIMIT_S,
    Look,
    MetricVerdict,
    Outcome,
    Plan,
    Status,
    Verdict,
    evaluate,
)
from rollout.release.comparisons import log_p95, wilson
from rollout.release.samples import Counts, Sample, min_sample_ok


@dataclass(frozen=True)
class GateDecision:
    """A gate's answer: True go, False no-go, None keep collecting; and why."""

    go: bool | None
    reasons: list[str]
    verdict: Verdict | None = None  # phase 2: the look that decided, or the latest


def phase2_gate(looks: Sequence[Look], plan: Plan = DEFAULT_PLAN) -> GateDecision:
    """The runbook's phase-2 rule over the looks so far, stopping at the first decisive one.

    GO when a primary metric shows a significant improvement, no metric a significant
    regression, and the guardrails (p95 < 2 s, error rate < baseline + 0.1 %) are met:
    each CI wholly on the good side of its limit. Early stopping must not outrun the
    guardrails: with O'Brien–Fleming boundaries a large improvement is significant within
    days, when a tripled error rate is not yet. At the final look the runbook's "no
    regressions" is read literally: a guardrail not missed (CI not wholly on the bad side)
    suffices, unless ``plan.prove_guardrails``, and the reason names the guardrails left
    unestablished (at a 0.2 % baseline, proving the error rate within +0.1 pp takes about
    2,000 users per arm per day, not 500). NO-GO on a significant regression, a missed
    guardrail, a sample-ratio mismatch, or at the final look anything short of GO.
    Otherwise keep collecting. The engagement targets (+30 %, +40 %, 5+) are reported
    against their CIs, not required.
    """
    if not looks:
        return GateDecision(None, ["phase 2: no looks yet: keep collecting"])
    verdicts = evaluate(looks, plan)
    for v in verdicts:
        go, why = _phase2_rule(v, plan)
        if go is not None:
            ignored = len(verdicts) - v.look
            tail = [f"{ignored} later look(s) ignored: the test stopped here"] if ignored else []
            return GateDecision(go, [why, _targets(v), *tail, *v.reasons], v)
    return GateDecision(None, [why, _targets(v), *v.reasons], v)


def _targets(v: Verdict) -> str:
    """One line: each runbook target's status at this look."""
    return "runbook targets: " + "; ".join(
        f"{m.metric} {m.target}" for m in v.metrics if m.target is not None)


def _phase2_rule(v: Verdict, plan: Plan) -> tuple[bool | None, str]:
    at = f"phase 2 look {v.look} of {plan.looks}"
    if v.srm.flagged:
        return False, f"NO-GO at {at}: sample-ratio mismatch ({v.srm.reason})"
    worse = _names(v, lambda m: m.decision is Outcome.REGRESSION)
    missed = _names(v, lambda m: m.target is Status.MISSED and _is_guardrail(plan, m))
    if worse or missed:
        return False, f"NO-GO at {at}: " + "; ".join(
            ([f"significant regression in {', '.join(worse)}"] if worse else [])
            + ([f"guardrail missed: {', '.join(missed)}"] if missed else []))
    better = _names(v, lambda m: m.decision is Outcome.IMPROVEMENT and _is_primary(plan, m))
    unproven = _names(v, lambda m: m.target is not Status.MET and _is_guardrail(plan, m))
    final = v.fraction >= 1.0
    if better and (not unproven or (final and not plan.prove_guardrails)):
        guards = (f"no guardrail missed (not established: {', '.join(unproven)})"
                  if unproven else "guardrails met")
        return True, (f"GO at {at}: significant improvement in {', '.join(better)}, no "
                      f"significant regression, {guards}")
    missing = ([] if better else ["no significant improvement"]) + (
        [f"guardrails not yet met: {', '.join(unproven)}"] if unproven else [])
    if final:
        return False, f"NO-GO at {at}, the final look: {'; '.join(missing)}"
    return None, f"keep collecting after {at}: {'; '.join(missing)}"


def _names(v: Verdict, keep: Callable[[MetricVerdict], bool]) -> list[str]:
    return [m.metric for m in v.metrics if keep(m)]


def _is_guardrail(plan: Plan, m: MetricVerdict) -> bool:
    return any(x.name == m.metric and x.target is not None and x.target.guardrail
               for x in plan.metrics)


def _is_primary(plan: Plan, m: MetricVerdict) -> bool:
    return any(x.name == m.metric and x.primary for x in plan.metrics)


def phase1_gate(errors: Counts, page_load: Sample | None = None, critical_bugs: int = 0,
                confidence: float = 0.95, checks: int = 1) -> GateDecision:
    """Phase 1 (internal users): GO if error rate < 0.1 % and no critical bugs.

    A limit counts as met when its one-sided upper bound at ``confidence`` is below it
    (Wilson for the error rate, lognormal for the p95 of ``Sample.of_logs`` page-load
    seconds), missed when the lower bound is at or above it. ``checks``: how often the
    gate is checked in the phase; 1 − confidence is split equally over them (Bonferroni),
    so that checking repeatedly keeps the level. NO-GO on a critical bug or a missed limit
    (a p95 over 2 s is the runbook's "performance issues"); GO when the error rate is met
    (the p95 is reported, as the runbook's GO does not ask for it); otherwise keep
    collecting.
    """
    return _limits_gate("phase 1", "GO", "NO-GO", errors, 0.001, page_load,
                        {"critical bugs": critical_bugs}, confidence, checks,
                        p95_required=False)


def phase3_gate(errors: Counts, page_load: Sample | None = None, critical_bugs: int = 0,
                database_issues: int = 0, confidence: float = 0.95,
                checks: int = 1) -> GateDecision:
    """Phase 3 (100 %): SUCCESS (True) if error rate < 0.5 %, p95 < 2 s, no critical bug
    and no database issue; ROLLBACK (False) on a bug, a database issue or a missed limit;
    otherwise keep monitoring. Bounds and ``checks`` as ``phase1_gate`` (the runbook checks
    every 2 h for 48 h: ``checks=24``)."""
    return _limits_gate("phase 3", "SUCCESS", "ROLLBACK", errors, 0.005, page_load,
                        {"critical bugs": critical_bugs, "database issues": database_issues},
                        confidence, checks, p95_required=True)


def _limits_gate(phase: str, yes: str, no: str, errors: Counts, rate_limit: float,
                 page_load: Sample | None, issues: Mapping[str, int], confidence: float,
                 checks: int, p95_required: bool) -> GateDecision:
    if not 0.0 < confidence < 1.0 or checks < 1:
        raise ValueError(f"need 0 < confidence < 1 and checks >= 1, got {confidence}, {checks}")
    z = float(stats.norm.isf((1.0 - confidence) / checks))
    found = [f"{name}: {count}" for name, count in issues.items() if count > 0]
    checked = [_rate_limit(errors, rate_limit, z), _p95_limit(page_load, z)]
    lines = [text for _, text in checked]
    missed = [text.split(":")[0] for status, text in checked if status is Status.MISSED]
    if found or missed:
        return GateDecision(False, [f"{no} ({phase}): " + "; ".join(found + missed), *lines])
    if all(status is Status.MET for status, _ in checked[:2 if p95_required else 1]):
        return GateDecision(True, [f"{yes} ({phase}): every criterion met", *lines])
    return GateDecision(None, [f"keep collecting ({phase}): not every criterion is "
                               f"established yet", *lines])


def _rate_limit(errors: Counts, limit: float, z: float) -> tuple[Status, str]:
    """Error rate < limit, by the one-sided Wilson bounds at critical value z."""
    head = f"error rate < {limit:.1%}"
    if errors.trials == 0:
        return Status.OPEN, f"{head}: {Status.OPEN}: no page loads yet"
    p = errors.events / errors.trials
    if not min_sample_ok(errors.trials, max(p, limit)):
        return Status.OPEN, (f"{head}: {Status.OPEN}: {errors.events} errors in "
                             f"{errors.trials} page loads is too few for PostHog's rule "
                             f"n·p > 5 (p = the observed rate or the limit)")
    lo, hi = wilson(errors.events, errors.trials, z)
    status = Status.MET if hi < limit else Status.MISSED if lo >= limit else Status.OPEN
    return status, (f"{head}: {status}: {errors.events}/{errors.trials} = {p:.3%}, "
                    f"one-sided bounds [{lo:.3%}, {hi:.3%}]")


def _p95_limit(page_load: Sample | None, z: float) -> tuple[Status, str]:
    """p95 < 2 s, by the lognormal p95's one-sided bounds at critical value z."""
    head = f"page load p95 < {P95_LIMIT_S:g} s"
    if page_load is None or page_load.n < 2:
        return Status.OPEN, f"{head}: {Status.OPEN}: fewer than 2 page loads"
    q, var = (float(x) for x in log_p95(page_load.n, page_load.mean, page_load.variance))
    lo, hi = math.exp(q - z * math.sqrt(var)), math.exp(min(q + z * math.sqrt(var), 700.0))
    limit = P95_LIMIT_S
    status = Status.MET if hi < limit else Status.MISSED if lo >= limit else Status.OPEN
    return status, (f"{head}: {status}: p95 {math.exp(q):.3g} s, one-sided bounds "
                    f"[{lo:.3g} s, {hi:.3g} s]")
