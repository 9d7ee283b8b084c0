"""rollout.release.comparisons: each test agrees with scipy on the same data, and SRM is
flagged when the split is off.

scipy's own tests (``ttest_ind``, ``chisquare``, ``norm``) on the same data are the reference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rollout.release.comparisons import (
    p95_statistic,
    p95_test,
    proportion_test,
    srm_test,
    welch_test,
)
from rollout.release.samples import Arms, Counts, Sample

RTOL = 1e-9


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# --- the tests agree with scipy ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_welch_matches_scipy_ttest_ind_statistic_p_df_and_ci(seed: int) -> None:
    rng = np.random.default_rng(seed)
    control = rng.lognormal(4.0, 1.0, int(rng.integers(5, 3000)))
    treatment = rng.lognormal(4.1, 0.7, int(rng.integers(5, 3000)))
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    ours = welch_test(Sample.of(control), Sample.of(treatment), alpha=0.05)
    assert ours.statistic is not None and ours.p_value is not None and ours.df is not None
    assert rel(ours.statistic, ref.statistic) < RTOL
    assert rel(ours.p_value, ref.pvalue) < RTOL
    assert rel(ours.df, ref.df) < RTOL
    ci = ref.confidence_interval(0.95)
    assert ours.ci is not None
    assert rel(ours.ci[0], ci.low) < RTOL and rel(ours.ci[1], ci.high) < RTOL


def test_welch_ci_at_a_tiny_alpha_matches_scipy_t_isf() -> None:
    """The early sequential looks ask for CIs at levels like 1 − 1e-12. (scipy's own
    ``confidence_interval(1 - 1e-12)`` rounds 1 − 5e-13 and so is off by ~1e-6: the
    reference is built from its statistic, df and ``t.isf`` instead.)"""
    rng = np.random.default_rng(11)
    control, treatment = rng.normal(10, 3, 400), rng.normal(11, 4, 500)
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    diff = treatment.mean() - control.mean()
    half = stats.t.isf(0.5e-12, ref.df) * diff / ref.statistic
    ours = welch_test(Sample.of(control), Sample.of(treatment), alpha=1e-12).ci
    assert ours is not None
    assert rel(ours[0], diff - half) < RTOL and rel(ours[1], diff + half) < RTOL


def test_two_proportion_p_value_matches_the_textbook_z_with_scipy_norm() -> None:
    for (ec, nc), (et, nt) in [((40, 20000), (62, 20000)), ((9, 4500), (30, 4400)),
                               ((300, 1000), (280, 1100))]:
        pooled = (ec + et) / (nc + nt)
        z = (et / nt - ec / nc) / math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
        ours = proportion_test(Counts(ec, nc), Counts(et, nt))
        assert ours.statistic is not None and ours.p_value is not None
        assert rel(ours.statistic, z) < RTOL
        assert rel(ours.p_value, 2 * stats.norm.sf(abs(z))) < RTOL


def test_newcombe_interval_matches_newcombe_1998_example() -> None:
    """Newcombe (1998), Stat Med 17:873, method 10: 56/70 − 48/80 → [0.0524, 0.3339]."""
    ci = proportion_test(Counts(48, 80), Counts(56, 70)).ci
    assert ci is not None
    assert ci[0] == pytest.approx(0.0524, abs=1e-4) and ci[1] == pytest.approx(0.3339, abs=1e-4)


def test_sample_merge_equals_the_statistics_of_the_concatenation() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(5, 2, 300), rng.normal(7, 1, 17)
    merged, whole = Sample.of(a).merge(Sample.of(b)), Sample.of(np.concatenate([a, b]))
    assert merged.n == whole.n
    assert rel(merged.mean, whole.mean) < 1e-12 and rel(merged.variance, whole.variance) < 1e-12


def test_lognormal_p95_ci_covers_the_true_p95_about_95_percent_of_the_time() -> None:
    """The delta-method variance of ln p95 is right: 4,000 lognormal samples of 300."""
    rng = np.random.default_rng(3)
    logs = rng.normal(math.log(0.8), 0.5, (4000, 300))
    n, mean, var = 300, logs.mean(axis=1), logs.var(axis=1, ddof=1)
    true_log_p95 = math.log(0.8) + 0.5 * stats.norm.ppf(0.95)
    # compare each sample with a zero-variance "arm" at the true p95: z = (q − truth)/se
    d, _, z = p95_statistic(10**12, true_log_p95 - 0.5 * stats.norm.ppf(0.95), 0.25, n, mean,
                            var)
    coverage = float(np.mean(np.abs(z) < stats.norm.ppf(0.975)))
    assert 0.94 < coverage < 0.96
    assert abs(float(np.mean(d))) < 0.01


def test_p95_test_reports_seconds_and_compares_the_p95_not_the_median() -> None:
    """Same median, fatter tail in treatment: Welch on log means would see nothing."""
    rng = np.random.default_rng(4)
    control = rng.lognormal(math.log(0.8), 0.4, 20000)
    treatment = rng.lognormal(math.log(0.8), 0.6, 20000)
    c = p95_test(Sample.of_logs(control), Sample.of_logs(treatment))
    assert c.control == pytest.approx(np.quantile(control, 0.95), rel=0.03)
    assert c.treatment == pytest.approx(np.quantile(treatment, 0.95), rel=0.03)
    assert c.p_value is not None and c.p_value < 1e-12
    welch_on_logs = stats.ttest_ind(np.log(treatment), np.log(control), equal_var=False)
    assert welch_on_logs.pvalue > 0.001


# --- sample-ratio mismatch ---------------------------------------------------------------


def test_srm_matches_scipy_chisquare_and_flags_45_55_not_50_50() -> None:
    skewed = srm_test(Arms(9_000, 11_000))
    ref = stats.chisquare([9_000, 11_000], f_exp=[10_000, 10_000])
    assert skewed.chi2 is not None and skewed.p_value is not None
    assert rel(skewed.chi2, ref.statistic) < RTOL and rel(skewed.p_value, ref.pvalue) < RTOL
    assert skewed.flagged and "mismatch" in skewed.reason
    fair = srm_test(Arms(10_040, 9_960))
    assert not fair.flagged and fair.p_value is not None and fair.p_value > 0.5


def test_srm_against_an_uneven_expected_split_matches_scipy() -> None:
    result = srm_test(Arms(880, 120), treatment_share=0.1)
    ref = stats.chisquare([880, 120], f_exp=[900, 100])
    assert result.p_value is not None and rel(result.p_value, ref.pvalue) < RTOL
