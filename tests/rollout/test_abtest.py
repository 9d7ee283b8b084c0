"""rollout.release.abtest: degenerate data gives an inconclusive verdict with a reason
(never an exception or a NaN), and bad input raises ValueError.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from rollout.release.abtest import Look, Outcome, Plan, evaluate
from rollout.release.comparisons import (
    proportion_test,
    srm_test,
    welch_test,
)
from rollout.release.gates import phase2_gate
from rollout.release.samples import Arms, Counts, Sample

# --- degenerate input: inconclusive with a reason, never an exception or NaN -------------


def floats_in(obj: Any) -> list[float]:
    """Every float inside nested dataclasses, tuples, lists and dicts."""
    if isinstance(obj, float):
        return [obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [x for f in dataclasses.fields(obj) for x in floats_in(getattr(obj, f.name))]
    if isinstance(obj, (tuple, list)):
        return [x for item in obj for x in floats_in(item)]
    if isinstance(obj, dict):
        return [x for item in obj.values() for x in floats_in(item)]
    return []


def look(n: int, sample: Sample, counts: Counts) -> Look:
    return Look(Arms(n, n), {"session_duration": Arms(sample, sample),
                             "contacts_viewed": Arms(sample, sample),
                             "actions_completed": Arms(sample, sample),
                             "page_load": Arms(sample, sample),
                             "error_rate": Arms(counts, counts)})


@pytest.mark.parametrize("case", [
    look(0, Sample(0), Counts(0, 0)),
    look(1, Sample(1, 3.0), Counts(0, 1)),
    look(500, Sample(500, 3.0, 0.0), Counts(0, 4500)),
    look(500, Sample(500, 0.0, 0.0), Counts(4500, 4500)),
], ids=["no users", "one user", "zero variance, no errors", "zeros, all errors"])
def test_degenerate_looks_are_inconclusive_with_reasons_and_no_nan(case: Look) -> None:
    verdict = evaluate([case])[0]
    assert all(m.decision is Outcome.INCONCLUSIVE for m in verdict.metrics)
    assert all(m.reasons and m.comparison and m.comparison.problem for m in verdict.metrics)
    assert not any(math.isnan(x) for x in floats_in(verdict))
    gate = phase2_gate([case])
    assert gate.go is None and gate.reasons
    assert not any(math.isnan(x) for x in floats_in(gate))


def test_zero_users_by_sample_size_spends_nothing_and_stays_inconclusive() -> None:
    verdict = evaluate([look(0, Sample(0), Counts(0, 0))], Plan(users=10_000))[0]
    assert verdict.boundary == math.inf and verdict.alpha_spent == 0.0
    assert all(m.decision is Outcome.INCONCLUSIVE for m in verdict.metrics)


def test_missing_metric_is_inconclusive_with_a_reason() -> None:
    verdict = evaluate([Look(Arms(10, 10), {})])[0]
    assert all(m.comparison is None and "no data" in m.reasons[0] for m in verdict.metrics)


def test_one_arm_without_variance_still_tests_welch() -> None:
    """The runbook's control completes 0 actions: a constant arm is not degenerate."""
    c = welch_test(Sample(7000, 0.0, 0.0), Sample(7000, 5.2, 9.0))
    assert c.p_value is not None and c.p_value < 1e-100 and c.df == pytest.approx(6999)
    assert c.lift is None and c.lift_ci is None


def test_proportions_need_posthogs_minimum_sample() -> None:
    """n·p > 5 and n·(1 − p) > 5 in each arm, p the pooled rate, before a test."""
    few = proportion_test(Counts(1, 2000), Counts(8, 2000))
    assert few.p_value is None and few.problem and "PostHog" in few.problem
    enough = proportion_test(Counts(3, 1000), Counts(9, 1000))
    assert enough.p_value is not None


def test_bad_input_raises_value_error() -> None:
    with pytest.raises(ValueError):
        Counts(5, 3)
    with pytest.raises(ValueError):
        Sample.of([1.0, float("nan")])
    with pytest.raises(ValueError):
        Sample.of_logs([0.5, 0.0])
    with pytest.raises(ValueError):
        srm_test(Arms(5, 5), treatment_share=1.0)
