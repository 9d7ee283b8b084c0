"""The phase-2 A/B test, control (old page) vs treatment (new page): the runbook's metrics
and targets, the plan of looks, and each look's verdict.

Each metric is compared by the test that fits its kind (``rollout.release.comparisons``).

**Repeated looks** (``rollout.release.sequential``): Lan–DeMets O'Brien–Fleming-type alpha
spending, information fraction = looks so far / planned looks, or users so far / planned
users; each look's boundary is exact (Armitage–McPherson–Rowe recursion) or, on request,
a Bonferroni split. A metric is significant at a look when its fixed-sample p-value is at
most the look's nominal level 2Φ(−c_k); every CI is reported at that level, so it is a
repeated confidence interval, valid however many looks are taken. **Several metrics**:
the family-wise α is split equally across them (Bonferroni), so that with no real
difference the gate declares one, on any metric at any look, with probability ≤ α.

A verdict never raises or holds NaN on degenerate data: the metric is inconclusive and
says why. The go/no-go gates that read the verdicts are ``rollout.release.gates``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rollout.release.comparisons import (
    Comparison,
    SrmResult,
    p95_test,
    proportion_test,
    srm_test,
    welch_test,
)
from rollout.release.samples import Arms, Counts, Sample, min_sample_ok
from rollout.release.sequential import (
    METHOD_TEXT,
    SPENDING,
    Boundary,
    BoundaryMethod,
    SpendingConvention,
    boundaries,
)

P95_LIMIT_S = 2.0  # "Page load time < 2s (p95)"


class Kind(StrEnum):
    """What a metric's data is, and so which test compares it."""

    MEAN = "mean"  # Arms[Sample] of per-user values: Welch
    PROPORTION = "proportion"  # Arms[Counts]: pooled z-test, Newcombe CI
    P95 = "p95"  # Arms[Sample] of ln(seconds), Sample.of_logs: lognormal p95 test


class Bound(StrEnum):
    """Which estimate a target bounds, and from which side."""

    LIFT_AT_LEAST = "lift ≥"  # treatment / control − 1
    TREATMENT_AT_LEAST = "treatment ≥"
    TREATMENT_BELOW = "treatment <"
    DIFFERENCE_BELOW = "treatment − control <"


class Status(StrEnum):
    MET = "met"  # the whole CI is on the good side
    MISSED = "missed"  # the whole CI is on the bad side
    OPEN = "not yet established"  # the CI straddles the target, or there is none


@dataclass(frozen=True)
class Target:
    """A runbook target; a ``guardrail`` blocks GO until met and is a NO-GO when missed."""

    bound: Bound
    value: float
    text: str
    guardrail: bool = False


@dataclass(frozen=True)
class Metric:
    """One compared metric: its data kind, good direction, role and runbook target."""

    name: str
    kind: Kind
    higher_is_better: bool
    primary: bool  # a significant improvement here is the "improvement" GO asks for
    target: Target | None = None
    unit: str = ""
    scale: float = 1.0  # for display: 100 shows a rate in %


PHASE2_METRICS = (
    Metric("session_duration", Kind.MEAN, True, True,
           Target(Bound.LIFT_AT_LEAST, 0.30, "session duration +30 %"), " s"),
    Metric("contacts_viewed", Kind.MEAN, True, True,
           Target(Bound.LIFT_AT_LEAST, 0.40, "contacts viewed +40 %")),
    Metric("actions_completed", Kind.MEAN, True, True,
           Target(Bound.TREATMENT_AT_LEAST, 5.0, "5+ actions completed per user")),
    Metric("page_load", Kind.P95, False, False,
           Target(Bound.TREATMENT_BELOW, P95_LIMIT_S, "page load p95 < 2 s", True), " s"),
    Metric("error_rate", Kind.PROPORTION, False, False,
           Target(Bound.DIFFERENCE_BELOW, 0.001, "error rate < baseline + 0.1 %", True),
           " %", 100.0),
)
"""The runbook's phase-2 table, row by row."""


@dataclass(frozen=True)
class Plan:
    """How the phase-2 test is run: planned looks, family-wise α, split, metrics.

    ``users``, when set, is the planned total of users (both arms): the information is then
    users so far / ``users`` instead of looks so far / ``looks``. Either way the final
    look is the one whose fraction reaches 1: all of α is spent there, and the gate
    decides there at the latest.
    """

    looks: int = 14  # daily for two weeks
    alpha: float = 0.05
    users: int | None = None
    treatment_share: float = 0.5
    method: BoundaryMethod = BoundaryMethod.EXACT
    spending: SpendingConvention = SpendingConvention.PER_SIDE
    metrics: tuple[Metric, ...] = PHASE2_METRICS
    srm_threshold: float = 0.001
    prove_guardrails: bool = False  # True: a final-look GO needs each guardrail met too


DEFAULT_PLAN = Plan()
"""The runbook's plan: daily looks for two weeks, α = 0.05, exact boundaries."""


@dataclass(frozen=True)
class Look:
    """The cumulative data of both arms at one look: users assigned, and per metric name
    an ``Arms`` of ``Sample`` or ``Counts`` (a metric may be missing)."""

    users: Arms[int]
    data: Mapping[str, Arms[Sample] | Arms[Counts]]


class Outcome(StrEnum):
    IMPROVEMENT = "significant improvement"
    REGRESSION = "significant regression"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class MetricVerdict:
    """One metric at one look: the comparison, the decision, the target, and why."""

    metric: str
    comparison: Comparison | None  # None when the look has no data for it
    decision: Outcome
    target: Status | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """One look: the method, α spent, the boundary, SRM and every metric's verdict."""

    look: int
    method: str
    fraction: float
    alpha: float  # family-wise
    alpha_spent: float  # family-wise, by this look
    boundary: float  # per metric: |z| ≥ boundary is significant (inf: spends nothing)
    nominal_p: float  # per metric: p ≤ nominal_p is significant
    srm: SrmResult
    metrics: tuple[MetricVerdict, ...]
    reasons: tuple[str, ...]


def evaluate(looks: Sequence[Look], plan: Plan = DEFAULT_PLAN) -> list[Verdict]:
    """A verdict for every look, in order, each at its own boundary.

    Raises ValueError when the information fraction decreases between looks.
    """
    metrics = len(plan.metrics)
    bounds = boundaries(_fractions(looks, plan), plan.alpha / metrics, plan.method,
                        SPENDING[plan.spending])
    method = (f"Lan–DeMets O'Brien–Fleming-type α spending ({plan.spending}), "
              f"{METHOD_TEXT[plan.method]}; "
              f"family-wise α = {plan.alpha:g} split equally over {metrics} metrics "
              f"(Bonferroni); information fraction by "
              f"{'users' if plan.users else 'looks'}")
    return [_verdict(look, bound, plan, method) for look, bound in zip(looks, bounds,
                                                                           strict=True)]


def _fractions(looks: Sequence[Look], plan: Plan) -> list[float]:
    if plan.users:
        return [(lk.users.control + lk.users.treatment) / plan.users for lk in looks]
    return [(k + 1) / plan.looks for k in range(len(looks))]


def _verdict(look: Look, bound: Boundary, plan: Plan, method: str) -> Verdict:
    srm = srm_test(look.users, plan.treatment_share, plan.srm_threshold)
    metrics = tuple(_judge(m, look.data.get(m.name), bound) for m in plan.metrics)
    spent = bound.alpha_spent * len(plan.metrics)
    head = (f"look {bound.look} (information {bound.fraction:.0%}): {method}; α spent "
            f"{spent:.3g} of {plan.alpha:g}; per-metric boundary |z| ≥ {bound.z:.3f} "
            f"(p ≤ {bound.nominal_p:.3g})")
    return Verdict(bound.look, method, bound.fraction, plan.alpha, spent, bound.z,
                   bound.nominal_p, srm, metrics,
                   (head, srm.reason, *(r for m in metrics for r in m.reasons)))


def compare(kind: Kind, arms: Arms[Sample] | Arms[Counts], alpha: float) -> Comparison:
    """The test that fits ``kind``; raises TypeError when the data does not fit it."""
    c, t = arms.control, arms.treatment
    if kind is Kind.PROPORTION and isinstance(c, Counts) and isinstance(t, Counts):
        return proportion_test(c, t, alpha)
    if isinstance(c, Sample) and isinstance(t, Sample):
        return (p95_test if kind is Kind.P95 else welch_test)(c, t, alpha)
    raise TypeError(f"{kind} metric needs {'Counts' if kind is Kind.PROPORTION else 'Sample'}"
                    f" per arm, got {type(c).__name__}")


def _judge(metric: Metric, arms: Arms[Sample] | Arms[Counts] | None,
           bound: Boundary) -> MetricVerdict:
    if arms is None:
        return MetricVerdict(metric.name, None, Outcome.INCONCLUSIVE, None,
                             (f"{metric.name}: inconclusive: no data at this look",))
    c = compare(metric.kind, arms, bound.nominal_p)
    decision, why = _decide(metric, c, bound)
    status, target_text = _target(metric, c, arms)
    lines = [f"{metric.name}: {decision}: {why}; {_describe(metric, c)}"]
    return MetricVerdict(metric.name, c, decision, status,
                         tuple(lines + ([target_text] if target_text else [])))


def _decide(metric: Metric, c: Comparison, bound: Boundary) -> tuple[Outcome, str]:
    if c.problem or c.p_value is None or c.difference is None:
        return Outcome.INCONCLUSIVE, c.problem or "no test"
    if math.isinf(bound.z):
        return Outcome.INCONCLUSIVE, "this look spends no α"
    stat = f"{c.test}: {'t' if c.df else 'z'} = {c.statistic:.3g}" + (
        f" (df {c.df:.1f})" if c.df else "")
    p = f"p = {c.p_value:.3g}" if c.p_value > 0 else "p < 1e-300"
    if c.p_value > bound.nominal_p:
        return Outcome.INCONCLUSIVE, f"{stat}, {p} > {bound.nominal_p:.3g}"
    better = (c.difference > 0) == metric.higher_is_better
    return (Outcome.IMPROVEMENT if better else Outcome.REGRESSION,
            f"{stat}, {p} ≤ {bound.nominal_p:.3g}")


def _describe(metric: Metric, c: Comparison) -> str:
    parts = [f"control {_show(metric, c.control, 'value')}, "
             f"treatment {_show(metric, c.treatment, 'value', c.treatment_ci)}"]
    if c.difference is not None:
        parts.append(f"difference {_show(metric, c.difference, 'difference', c.ci)}")
    if c.lift is not None:
        parts.append(f"lift {_show(metric, c.lift, 'lift', c.lift_ci)}")
    level = f"{1 - c.alpha:.2%}" if c.alpha >= 1e-4 else f"1 − {c.alpha:.2g}"
    return "; ".join(parts) + f" (CIs at {level})"


def _show(metric: Metric, x: float | None, kind: str,
          ci: tuple[float, float] | None = None) -> str:
    """A value (with its CI): lifts in %, rates in % and their differences in pp."""
    def one(v: float) -> str:
        if kind == "lift":
            return f"{v:+.1%}"
        unit = " pp" if kind == "difference" and metric.unit == " %" else metric.unit
        return f"{v * metric.scale:{'+' if kind == 'difference' else ''}.4g}{unit}"

    if x is None:
        return "n/a"
    return one(x) + ("" if ci is None else f" [{one(ci[0])}, {one(ci[1])}]")


def _target(metric: Metric, c: Comparison,
            arms: Arms[Sample] | Arms[Counts]) -> tuple[Status | None, str | None]:
    t = metric.target
    if t is None:
        return None, None
    estimate, interval, kind = {
        Bound.LIFT_AT_LEAST: (c.lift, c.lift_ci, "lift"),
        Bound.TREATMENT_AT_LEAST: (c.treatment, c.treatment_ci, "value"),
        Bound.TREATMENT_BELOW: (c.treatment, c.treatment_ci, "value"),
        Bound.DIFFERENCE_BELOW: (c.difference, c.ci, "difference"),
    }[t.bound]
    if estimate is None or interval is None or not _enough_for_target(metric, c, arms):
        return Status.OPEN, f"  target {t.text}: {Status.OPEN} (no estimate with a CI yet)"
    lo, hi = interval
    if t.bound in (Bound.LIFT_AT_LEAST, Bound.TREATMENT_AT_LEAST):
        status = Status.MET if lo >= t.value else Status.MISSED if hi < t.value else Status.OPEN
    else:
        status = Status.MET if hi < t.value else Status.MISSED if lo >= t.value else Status.OPEN
    return status, (f"  target {t.text}: {status}: {t.bound} {_show(metric, t.value, kind)}, "
                    f"estimate {_show(metric, estimate, kind, interval)}")


def _enough_for_target(metric: Metric, c: Comparison,
                       arms: Arms[Sample] | Arms[Counts]) -> bool:
    """A test problem blocks the target too, except PostHog's rule on a proportion with a
    limit, which may hold at the limit instead of the pooled rate."""
    if c.problem is None:
        return True
    if metric.kind is not Kind.PROPORTION or metric.target is None:
        return False
    ctl, trt = arms.control, arms.treatment
    assert isinstance(ctl, Counts) and isinstance(trt, Counts)
    if min(ctl.trials, trt.trials) == 0:
        return False
    pooled = (ctl.events + trt.events) / (ctl.trials + trt.trials)
    p = max(pooled, metric.target.value)
    return bool(min_sample_ok(ctl.trials, p) and min_sample_ok(trt.trials, p))
