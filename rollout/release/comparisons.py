"""Treatment vs control on one metric at one confidence level, and the sample-ratio check.

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

The array kernels (``welch_statistic``, ``pooled_z``, ``p95_statistic`` and the two-sided
p-values) serve simulations of many seeds at once. The distributions (normal, Student's
t, χ²) are ``scipy.stats``'. No test here raises or returns NaN on degenerate data (no
users, zero variance, too few events): its ``Comparison`` says why it could not decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from rollout.release.samples import Arms, Counts, Sample, min_sample_ok

Z95 = float(stats.norm.ppf(0.95))  # 1.6448536269514722: the p95 of a normal, in sds


def wilson(events: int, trials: int, z: float) -> tuple[float, float]:
    """The Wilson score interval at critical value ``z``; (0, 1) for no trials."""
    if trials == 0:
        return (0.0, 1.0)
    if math.isinf(z):
        return (0.0, 1.0)
    p, zz = events / trials, z * z / trials
    centre, half = p + zz / 2, z * math.sqrt(p * (1 - p) / trials + zz / (4 * trials))
    return (max(0.0, (centre - half) / (1 + zz)), min(1.0, (centre + half) / (1 + zz)))


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
    log_c, se2_c = log_p95(n_c, mean_c, var_c)
    log_t, se2_t = log_p95(n_t, mean_t, var_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(se2_c + se2_t)
        return log_t - log_c, se, (log_t - log_c) / se


def log_p95(n: ArrayLike, mean: ArrayLike, var: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The lognormal p95's log estimate x̄ + z₀.₉₅·s and its variance, elementwise."""
    nn, v = np.asarray(n, dtype=float), np.asarray(var, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(mean) + Z95 * np.sqrt(v), v * (1 / nn + Z95 * Z95 / (2 * (nn - 1)))


def normal_two_sided_p(z: ArrayLike) -> float | np.ndarray:
    """2·(1 − Φ(|z|)), elementwise."""
    p = 2.0 * stats.norm.sf(np.abs(np.asarray(z, dtype=float)))
    return float(p) if np.ndim(z) == 0 else p


def t_two_sided_p(t: ArrayLike, df: ArrayLike) -> float | np.ndarray:
    """2·P(T_df ≥ |t|) for Student's t with fractional df, elementwise."""
    p = 2.0 * stats.t.sf(np.abs(np.asarray(t, dtype=float)), df)
    return float(p) if np.ndim(p) == 0 else p


def _interval(centre: float, half: float) -> tuple[float, float] | None:
    return (centre - half, centre + half) if math.isfinite(half) else None


def _critical_z(alpha: float) -> float:
    return float(stats.norm.isf(alpha / 2)) if alpha > 0 else math.inf


def _critical_t(alpha: float, df: float) -> float:
    return float(stats.t.isf(alpha / 2, df)) if alpha > 0 else math.inf


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
    (qc, vc), (qt, vt) = (tuple(float(x) for x in log_p95(s.n, s.mean, s.variance))
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
    p = float(stats.chi2.sf(chi2, 1))
    share = users.treatment / total
    verdict = "mismatch: the assignment is broken and no comparison can be trusted" \
        if p < threshold else "no mismatch"
    return SrmResult(users.control, users.treatment, treatment_share, chi2, p, p < threshold,
                     f"SRM: {users.control} control / {users.treatment} treatment "
                     f"({share:.2%} treatment, expected {treatment_share:.0%}), "
                     f"χ² = {chi2:.3g}, p = {p:.3g} (flag if < {threshold:g}): {verdict}")
