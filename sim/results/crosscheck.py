"""Does a sweep agree with a metric's analytic bound? A test that can fail.

A ``Bound`` (``sim.results.bounds``) states, for each end, the share of runs allowed past
it: ``tail`` — 0 for an end the mechanics fix (no run may pass it), 1 − q for an end at
a quantile q of the drawn delays (e.g. 1 % past a p99 end). ``check`` counts the runs past
each end and asks how likely that many would be if the bound were right: the one-sided
binomial tail P(X ≥ k), X ~ Binomial(n, tail) (for ``tail`` 0, any run past the end gives
P = 0). Below ``ALPHA`` the bound and the simulation **disagree**, and nothing excuses
it: a bound whose mechanics do not hold (a marginal breach, say) is a bound the
simulation contradicts, and the check says both. Runs that never got there count as
past the high end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.results.bounds import Bound

ALPHA = 0.001  # the binomial tail below which runs past an end are implausible
TOL = 1e-6  # seconds: values are rounded to the millisecond


@dataclass(frozen=True)
class CrossCheck:
    """One bound against a set of runs: the verdict and what it rests on."""

    verdict: str  # "agrees", "DISAGREES", "no closed form", "no runs"
    detail: str
    runs: int = 0
    below: int = 0  # runs under the low end
    above: int = 0  # runs over the high end (a run that never got there included)
    tail: float = 0.0  # the share of runs the bound allows past each end
    p_below: float | None = None  # P(this many or more below | the bound is right)
    p_above: float | None = None

    @property
    def disagrees(self) -> bool:
        return self.verdict == "DISAGREES"

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "below": self.below, "above": self.above,
                "tail": self.tail, "p_below": _round(self.p_below),
                "p_above": _round(self.p_above), "alpha": ALPHA}


def check(bound: Bound, values: Sequence[float]) -> CrossCheck:
    """``bound`` against the simulated ``values`` (inf: the metric never happened)."""
    n = len(values)
    if n == 0:
        return CrossCheck("no runs", "no run measured this")
    if bound.low is None and bound.high is None:
        if not bound.warning:
            return CrossCheck("no closed form", "no closed form", n)
        happened = sum(1 for v in values if math.isfinite(v))
        if happened:
            return CrossCheck("DISAGREES", f"the analysis says this never happens; it did "
                              f"in {happened} of {n} runs", n, above=happened, p_above=0.0)
        return CrossCheck("agrees", f"never, in all {n} runs", n)
    lo = -math.inf if bound.low is None else bound.low
    hi = math.inf if bound.high is None else bound.high
    if lo <= 0 and math.isinf(hi):
        return CrossCheck("no closed form", f"the range 0–∞ s excludes nothing ({n} runs)", n)
    below = sum(1 for v in values if v < lo - TOL)
    above = sum(1 for v in values if v > hi + TOL)
    p_below, p_above = tail_p(below, n, bound.tail), tail_p(above, n, bound.tail)
    parts = []
    if below:
        parts.append(_end(below, n, p_below, bound.tail, f"under the {_show(lo)} s low end"))
    if above:
        never = sum(1 for v in values if math.isinf(v))
        parts.append(_end(above, n, p_above, bound.tail, f"over the {_show(hi)} s high end")
                     + (f", {never} of them never got there" if never else ""))
    parts = parts or [f"all {n} runs within {_show(lo)}–{_show(hi)} s"]
    disagrees = min(p_below, p_above) < ALPHA
    if disagrees and bound.caveat:
        parts.append(f"the bound assumes what this configuration does not give: "
                     f"{bound.caveat}")
    return CrossCheck("DISAGREES" if disagrees else "agrees", "; ".join(parts), n, below,
                      above, bound.tail, p_below, p_above)


# A metric is timed from the one before it: a bound on it holds only where that happened.
STARTS_AT = {"time_to_decision_s": "time_to_detect_s",
              "time_to_rollback_s": "time_to_decision_s"}


def checked_values(rows: Sequence[dict[str, Any]], metric: str) -> list[float]:
    """The metric's value in each run its bound speaks of (inf: it never happened): runs
    where it is judged, not false positives (the response began before the fault), and
    where the metric it is timed from happened."""
    start = STARTS_AT.get(metric)
    out = []
    for r in rows:
        if r["status"][metric] == "not_measured" or r.get("false_positive"):
            continue
        if start is not None and r["metrics"][start] is None:
            continue
        value = r["metrics"][metric]
        out.append(math.inf if value is None else float(value))
    return out


def standing_warnings(bounds: Sequence[Bound], rows: Sequence[dict[str, Any]]
                      ) -> tuple[list[str], list[str]]:
    """The bounds' warnings the runs (``summary.json`` documents or sweep rows) do not
    contradict, and one line per warning they do (e.g. "the alert can never fire" where a
    run's alert fired): a warning is a claim about every seed, so one run can refute it."""
    kept, refuted = [], []
    for bound in bounds:
        if not bound.warning:
            continue
        result = check(bound, checked_values(rows, bound.metric))
        if result.disagrees:
            refuted.append(f"{bound.metric}: {result.detail} (the analysis: {bound.how})")
        else:
            kept.append(bound.warning)
    return kept, refuted


def tail_p(k: int, n: int, tail: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, tail): how likely ``k`` or more of ``n`` runs past an
    end that a share ``tail`` of runs may pass (1 for k = 0; 0 when ``tail`` is 0)."""
    if k <= 0:
        return 1.0
    if tail <= 0:
        return 0.0
    from scipy import stats  # here, not at the top: scipy.stats takes a second to load

    return float(stats.binom.sf(k - 1, n, tail))


def _end(k: int, n: int, p: float, tail: float, where: str) -> str:
    allowed = "none allowed" if tail <= 0 else \
        f"≤ {100 * tail:g} % allowed, P = {p:.2g} if the bound holds"
    return f"{k} of {n} runs {where} ({allowed})"


def _show(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:g}"


def _round(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.4g}")
