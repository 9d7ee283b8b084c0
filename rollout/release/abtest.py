"""Control (old page) vs treatment (new page), per metric, at every look of the phase-2 A/B
test, and the runbook's go/no-go gates for phases 1, 2 and 3.

Each metric gets the test that fits it:

- **Per-user means** (session duration, contacts viewed, actions completed): Welch's
  t-test from per-user values or sufficient statistics (n, mean, variance); the CI is
  difference ± t_df·se with the Welch–Satterthwaite df, the relative lift's CI is by the
  delta method.
- **Error rate**: the two-proportion z-test with the pooled variance (the score test) for
  the p-value, and Newcombe's hybrid-score interval (built from two Wilson intervals) for
  the difference, which stays sensible at rates near 0 where the Wald interval does not.
  PostHog's minimum sample applies: no decision until n·p > 5 and n·(1 − p) > 5 in each
  arm, p the pooled rate (the rate under H0); a check against a limit (error rate <
  baseline + 0.1 %, < 0.1 %) may use the limit as p instead, so that 0 errors in many
  page loads can pass it.
- **Page-load p95**: a lognormal model, as page loads are (and as the drill draws them).
  With x = ln(seconds), p95 = exp(μ + z₀.₉₅σ); its estimate q = x̄ + z₀.₉₅·s has variance
  s²·(1/n + z₀.₉₅²/(2(n − 1))) (delta method), and the arms are compared on
  q_T − q_C with a z-test. Unlike Welch on mean log-latency, which compares medians, this
  compares the p95 itself: a page with the same median and a fatter tail is caught.
  Bootstrap-free, deterministic, from sufficient statistics of the log latencies
  (``Sample.of_logs``). Its limit: far from lognormal (a bimodal cache-hit/miss mix) it
  estimates the fitted p95, not the empirical one.

**Repeated looks** (``rollout.release.sequential``): Lan–DeMets O'Brien–Fleming-type alpha
spending, information fraction = looks so far / planned looks, or users so far / planned
users; each look's boundary is exact (Armitage–McPherson–Rowe recursion) or, on request,
a Bonferroni split. A metric is significant at a look when its fixed-sample p-value is at
most the look's nominal level 2Φ(−c_k); every CI is reported at that level, so it is a
repeated confidence interval, valid however many looks are taken. **Several metrics**:
the family-wise α is split equally across them (Bonferroni), so that with no real
difference the gate declares one, on any metric at any look, with probability ≤ α.

The distributions (normal, Student's t, χ²) are ``rollout.release.sequential``'s: numpy and the
standard library only. No function here raises or returns NaN on degenerate data (no
users, zero variance, too few events): the metric is inconclusive and says why. Bad input
(negative counts, NaN values, events > trials) raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from rollout.release.sequential import (
    METHOD_TEXT,
    Boundary,
    BoundaryMethod,
    boundaries,
    chi2_sf_1dof,
    norm_isf,
    norm_sf,
    norm_sf_array,
    t_isf,
    t_two_sided_p,
)

T = TypeVar("T")
Z95 = 1.6448536269514722  # Φ⁻¹(0.95): the p95 of a normal in standard deviations
P95_LIMIT_S = 2.0  # "Page load time < 2s (p95)"
MIN_EXPECTED = 5.0  # PostHog: n·p > 5 and n·(1 − p) > 5


# --- data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """Sufficient statistics of a continuous metric in one arm: n, mean, variance (ddof 1).

    Raises ValueError for a negative n or variance, or a non-finite mean or variance.
    """

    n: int
    mean: float = 0.0
    variance: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 0 or not math.isfinite(self.mean) or not math.isfinite(self.variance) \
                or self.variance < 0:
            raise ValueError(f"bad sample statistics: {self}")

    @classmethod
    def of(cls, values: ArrayLike) -> Sample:
        """From per-user values; raises ValueError on a non-finite value."""
        x = np.asarray(values, dtype=float).ravel()
        if not np.isfinite(x).all():
            raise ValueError("values must be finite")
        variance = float(x.var(ddof=1)) if x.size > 1 else 0.0
        return cls(int(x.size), float(x.mean()) if x.size else 0.0, variance)

    @classmethod
    def of_logs(cls, values: ArrayLike) -> Sample:
        """From positive values (page-load seconds), as statistics of their natural logs."""
        x = np.asarray(values, dtype=float).ravel()
        if not (np.isfinite(x) & (x > 0)).all():
            raise ValueError("values must be finite and > 0 to take their logs")
        return cls.of(np.log(x))

    def merge(self, other: Sample) -> Sample:
        """The statistics of both samples together (Chan's parallel formula)."""
        n = self.n + other.n
        if n == 0:
            return Sample(0)
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        squares = (self.variance * max(self.n - 1, 0) + other.variance * max(other.n - 1, 0)
                   + delta * delta * self.n * other.n / n)
        return Sample(n, mean, squares / (n - 1) if n > 1 else 0.0)


@dataclass(frozen=True)
class Counts:
    """A binomial count in one arm: ``events`` (errors) out of ``trials`` (page loads)."""

    events: int
    trials: int

    def __post_init__(self) -> None:
        if not 0 <= self.events <= self.trials:
            raise ValueError(f"need 0 <= events <= trials, got {self}")

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.events + other.events, self.trials + other.trials)


@dataclass(frozen=True)
class Arms(Generic[T]):
    """One value per arm: control (old page) and treatment (new page)."""

    control: T
    treatment: T


def min_sample_ok(trials: ArrayLike, rate: ArrayLike) -> bool | np.ndarray:
    """PostHog's minimum sample for a proportion: n·p > 5 and n·(1 − p) > 5."""
    n, p = np.asarray(trials, dtype=float), np.asarray(rate, dtype=float)
    ok = (n * p > MIN_EXPECTED) & (n * (1.0 - p) > MIN_EXPECTED)
    return bool(ok) if ok.ndim == 0 else ok


def wilson(events: int, trials: int, z: float) -> tuple[float, float]:
    """The Wilson score interval at critical value ``z``; (0, 1) for no trials."""
    if trials == 0:
        return (0.0, 1.0)
    if math.isinf(z):
        return (0.0, 1.0)
    p, zz = events / trials, z * z / trials
    centre, half = p + zz / 2, z * math.sqrt(p * (1 - p) / trials + zz / (4 * trials))
    return (max(0.0, (centre - half) / (1 + zz)), min(1.0, (centre + half) / (1 + zz)))


# --- comparisons: the tests and their statistics --------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control on one metric at one confidence level.

    ``control``/``treatment`` are each arm's estimate (mean, rate or p95), ``difference``
    is treatment − control, ``lift`` is treatment / control − 1; the intervals are
    two-sided at level 1 − ``alpha``. ``problem`` says why no test was possible, and then
    ``statistic`` and ``p_value`` are None; no field is ever NaN.
    """

    test: str
    alpha: float
    control: float | None = None
    treatment: float | None = None
    treatment_ci: tuple[float, float] | None = None
    difference: float | None = None
    ci: tuple[float, float] | None = None
    lift: float | None = None
    lift_ci: tuple[float, float] | None = None
    statistic: float | None = None
    df: float | None = None
    p_value: float | None = None
    problem: str | None = None


WELCH = "Welch's t-test"
PROPORTIONS = "two-proportion z-test (pooled), Newcombe hybrid-score CI"
LOGNORMAL_P95 = "lognormal p95 z-test (delta method on ln p95)"


def welch_statistic(n_c: ArrayLike, mean_c: ArrayLike, var_c: ArrayLike, n_t: ArrayLike,
                    mean_t: ArrayLike, var_t: ArrayLike) -> tuple[np.ndarray, ...]:
    """Welch's (difference, se, t, df), elementwise; callers exclude n < 2 and se = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        vc, vt = np.asarray(var_c) / np.asarray(n_c), np.asarray(var_t) / np.asarray(n_t)
        se2 = vc + vt
        df = se2 * se2 / (vc * vc / (np.asarray(n_c) - 1) + vt * vt / (np.asarray(n_t) - 1))
        difference = np.asarray(mean_t) - np.asarray(mean_c)
        return difference, np.sqrt(se2), difference / np.sqrt(se2), df


def pooled_z(events_c: ArrayLike, n_c: ArrayLike, events_t: ArrayLike,
             n_t: ArrayLike) -> np.ndarray:
    """The two-proportion z statistic with the pooled variance, elementwise."""
    ec, nc, et, nt = (np.asarray(v, dtype=float) for v in (events_c, n_c, events_t, n_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (ec + et) / (nc + nt)
        se = np.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
        return np.asarray((et / nt - ec / nc) / se)


def p95_statistic(n_c: ArrayLike, mean_c: ArrayLike, var_c: ArrayLike, n_t: ArrayLike,
                  mean_t: ArrayLike, var_t: ArrayLike) -> tuple[np.ndarray, ...]:
    """(ln p95_T − ln p95_C, its se, z) from log-latency statistics, elementwise."""
    log_c, se2_c = _log_p95(n_c, mean_c, var_c)
    log_t, se2_t = _log_p95(n_t, mean_t, var_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(se2_c + se2_t)
        return log_t - log_c, se, (log_t - log_c) / se


def _log_p95(n: ArrayLike, mean: ArrayLike, var: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    nn, v = np.asarray(n, dtype=float), np.asarray(var, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(mean) + Z95 * np.sqrt(v), v * (1 / nn + Z95 * Z95 / (2 * (nn - 1)))


def normal_two_sided_p(z: ArrayLike) -> float | np.ndarray:
    """2·(1 − Φ(|z|)), elementwise."""
    if np.ndim(z) == 0:
        return 2.0 * norm_sf(abs(float(z)))  # type: ignore[arg-type]
    return 2.0 * norm_sf_array(np.abs(np.asarray(z, dtype=float)))


def _interval(centre: float, half: float) -> tuple[float, float] | None:
    return (centre - half, centre + half) if math.isfinite(half) else None


def _critical_z(alpha: float) -> float:
    return norm_isf(alpha / 2) if alpha > 0 else math.inf


def _critical_t(alpha: float, df: float) -> float:
    return t_isf(alpha / 2, df) if alpha > 0 else math.inf


def welch_test(control: Sample, treatment: Sample, alpha: float = 0.05) -> Comparison:
    """Welch's t-test of treatment − control, CIs at level 1 − ``alpha``."""
    out = Comparison(WELCH, alpha, control.mean if control.n else None,
                     treatment.mean if treatment.n else None)
    if control.n < 2 or treatment.n < 2:
        return replace(out, problem=f"needs >= 2 users per arm (control {control.n}, "
                                    f"treatment {treatment.n})")
    out = replace(out, treatment_ci=_interval(treatment.mean, _critical_t(
        alpha, treatment.n - 1) * math.sqrt(treatment.variance / treatment.n)))
    if control.variance == 0 and treatment.variance == 0:
        return replace(out, problem="zero variance in both arms: nothing to test against")
    diff, se, t, df = (float(v) for v in welch_statistic(
        control.n, control.mean, control.variance, treatment.n, treatment.mean,
        treatment.variance))
    crit = _critical_t(alpha, df)
    return replace(out, difference=diff, ci=_interval(diff, crit * se),
                   lift_ci=_lift_ci(control, treatment, crit), statistic=t, df=df,
                   p_value=float(t_two_sided_p(t, df)),
                   lift=diff / control.mean if control.mean else None)


def _lift_ci(control: Sample, treatment: Sample, crit: float) -> tuple[float, float] | None:
    """Delta-method CI of mean_T / mean_C − 1; None when the control mean is 0."""
    if control.mean == 0:
        return None
    ratio = treatment.mean / control.mean
    var = (treatment.variance / treatment.n
           + ratio * ratio * control.variance / control.n) / control.mean ** 2
    return _interval(ratio - 1, crit * math.sqrt(var))


def proportion_test(control: Counts, treatment: Counts, alpha: float = 0.05) -> Comparison:
    """Pooled two-proportion z-test of treatment − control, Newcombe CI at 1 − ``alpha``."""
    if control.trials == 0 or treatment.trials == 0:
        return Comparison(PROPORTIONS, alpha, problem=f"no trials yet (control "
                          f"{control.trials}, treatment {treatment.trials})")
    pc, pt = control.events / control.trials, treatment.events / treatment.trials
    z_crit = _critical_z(alpha)
    (lc, uc), (lt, ut) = (wilson(c.events, c.trials, z_crit) for c in (control, treatment))
    out = Comparison(PROPORTIONS, alpha, pc, pt, (lt, ut), pt - pc,
                     (pt - pc - math.hypot(pt - lt, uc - pc), pt - pc + math.hypot(ut - pt,
                                                                                    pc - lc)),
                     pt / pc - 1 if pc > 0 else None)
    if out.lift is not None and math.isfinite(z_crit):  # delta method on the ratio
        se = math.sqrt(pt * (1 - pt) / treatment.trials
                       + (pt / pc) ** 2 * pc * (1 - pc) / control.trials) / pc
        out = replace(out, lift_ci=_interval(out.lift, z_crit * se))
    pooled = (control.events + treatment.events) / (control.trials + treatment.trials)
    if not (min_sample_ok(control.trials, pooled) and min_sample_ok(treatment.trials, pooled)):
        return replace(out, problem=f"too few events for a test: PostHog's rule needs "
                                    f"n·p > 5 and n·(1 − p) > 5 in each arm (pooled p = "
                                    f"{pooled:.3g}, n = {control.trials} and "
                                    f"{treatment.trials})")
    z = float(pooled_z(control.events, control.trials, treatment.events, treatment.trials))
    return replace(out, statistic=z, p_value=float(normal_two_sided_p(z)))


def p95_test(control: Sample, treatment: Sample, alpha: float = 0.05) -> Comparison:
    """Lognormal p95 test from ``Sample.of_logs`` statistics; estimates in seconds."""
    if control.n < 2 or treatment.n < 2:
        return Comparison(LOGNORMAL_P95, alpha, problem=f"needs >= 2 page loads per arm "
                          f"(control {control.n}, treatment {treatment.n})")
    z_crit = _critical_z(alpha)
    (qc, vc), (qt, vt) = (tuple(float(x) for x in _log_p95(s.n, s.mean, s.variance))
                          for s in (control, treatment))
    pc, pt = math.exp(qc), math.exp(qt)
    out = Comparison(LOGNORMAL_P95, alpha, pc, pt, _exp_interval(qt, z_crit * math.sqrt(vt)))
    if vc == 0 and vt == 0:
        return replace(out, problem="zero variance in both arms: nothing to test against")
    d, se, z = (float(v) for v in p95_statistic(control.n, control.mean, control.variance,
                                                treatment.n, treatment.mean, treatment.variance))
    half = z_crit * math.sqrt(pt * pt * vt + pc * pc * vc)  # delta method for pt − pc
    lift_ci = _exp_interval(d, z_crit * se)
    return replace(out, difference=pt - pc, ci=_interval(pt - pc, half), lift=math.expm1(d),
                   lift_ci=(lift_ci[0] - 1, lift_ci[1] - 1) if lift_ci else None,
                   statistic=z, p_value=float(normal_two_sided_p(z)))


def _exp_interval(centre: float, half: float) -> tuple[float, float] | None:
    if not math.isfinite(half):
        return None
    return (math.exp(centre - half), math.exp(min(centre + half, 700.0)))


# --- sample-ratio mismatch ------------------------------------------------------------


@dataclass(frozen=True)
class SrmResult:
    """The χ² goodness-of-fit test of the users per arm against the expected split."""

    control: int
    treatment: int
    expected_share: float  # of users in treatment
    chi2: float | None
    p_value: float | None
    flagged: bool
    reason: str


def srm_test(users: Arms[int], treatment_share: float = 0.5,
             threshold: float = 0.001) -> SrmResult:
    """Flags a sample-ratio mismatch when p < ``threshold``; raises ValueError on a share
    outside (0, 1) or a negative count."""
    if not 0.0 < treatment_share < 1.0 or min(users.control, users.treatment) < 0:
        raise ValueError(f"bad SRM input: {users}, share {treatment_share}")
    total = users.control + users.treatment
    if total == 0:
        return SrmResult(0, 0, treatment_share, None, None, False, "SRM: no users yet")
    expected = (total * (1 - treatment_share), total * treatment_share)
    chi2 = sum((o - e) ** 2 / e for o, e in zip((users.control, users.treatment), expected,
                                                strict=True))
    p = chi2_sf_1dof(chi2)
    share = users.treatment / total
    verdict = "mismatch: the assignment is broken and no comparison can be trusted" \
        if p < threshold else "no mismatch"
    return SrmResult(users.control, users.treatment, treatment_share, chi2, p, p < threshold,
                     f"SRM: {users.control} control / {users.treatment} treatment "
                     f"({share:.2%} treatment, expected {treatment_share:.0%}), "
                     f"χ² = {chi2:.3g}, p = {p:.3g} (flag if < {threshold:g}): {verdict}")


# --- metrics, targets and the per-look verdict ----------------------------------------


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
    metrics: tuple[Metric, ...] = PHASE2_METRICS
    srm_threshold: float = 0.001
    prove_guardrails: bool = False  # True: a final-look GO needs each guardrail met too


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


def evaluate(looks: Sequence[Look], plan: Plan = Plan()) -> list[Verdict]:
    """A verdict for every look, in order, each at its own boundary.

    Raises ValueError when the information fraction decreases between looks.
    """
    metrics = len(plan.metrics)
    bounds = boundaries(_fractions(looks, plan), plan.alpha / metrics, plan.method)
    method = (f"Lan–DeMets O'Brien–Fleming-type α spending, {METHOD_TEXT[plan.method]}; "
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


# --- the runbook's gates --------------------------------------------------------------


@dataclass(frozen=True)
class GateDecision:
    """A gate's answer: True go, False no-go, None keep collecting; and why."""

    go: bool | None
    reasons: list[str]
    verdict: Verdict | None = None  # phase 2: the look that decided, or the latest


def phase2_gate(looks: Sequence[Look], plan: Plan = Plan()) -> GateDecision:
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
    z = norm_isf((1.0 - confidence) / checks)
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
    q, var = (float(x) for x in _log_p95(page_load.n, page_load.mean, page_load.variance))
    lo, hi = math.exp(q - z * math.sqrt(var)), math.exp(min(q + z * math.sqrt(var), 700.0))
    limit = P95_LIMIT_S
    status = Status.MET if hi < limit else Status.MISSED if lo >= limit else Status.OPEN
    return status, (f"{head}: {status}: p95 {math.exp(q):.3g} s, one-sided bounds "
                    f"[{lo:.3g} s, {hi:.3g} s]")
