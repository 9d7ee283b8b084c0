"""Analytic cross-checks: what a scenario's configuration implies before any run.

Each timing metric gets the range its mechanics allow, and each end of the range says how
many runs may pass it (``Bound.tail``): none for an end the mechanics fix, ``1 − QUANTILE``
(1 %) for an end at a quantile of the drawn delays.

- **Detection** can take no longer than the alert rule's bound (window + tick + SDK flush
  for session rules + ingest + the rule's evaluation period, Sentry's resolution for its
  window, × consecutive breaches) once the breach is sustained — a hard end: no run may
  pass it — and cannot happen at all when the fault's steady error rate stays on the
  right side of the threshold. When the steady rate is under ``MARGINAL`` × the threshold
  (or the rule's query may drop the fault's events) the breach may not be sustained: the
  bound says so (``caveat``) and the cross-check still reports every run past it.
- **Decision** (human): the page's first acknowledgement (the escalation chain: level 1
  acknowledges after its ``ack_delay`` if that is under ``incident.escalation_timeout``,
  else level 2 is paged, …; a level that never acknowledges costs the timeout) plus the
  decision delay. The automated responder: its automation latency, unpaged.
- **Rollback**: the path's manual steps (a step-time draw each) plus what the platform
  adds (queue and build for a redeploy, the alias swap for an instant rollback), observed
  at the next tick (up to one tick, added to the high end).

A drawn range is the sum's quantiles, computed exactly (``sim.results.quantiles``: the
independent draws' distributions convolved on a grid, rounded outwards), not the sum of
each term's quantiles: ``P(metric < low) ≤ 1 − QUANTILE`` and ``P(metric > high) ≤
1 − QUANTILE``. Sweeps test each end against the runs (``sim.results.crosscheck``: a
one-sided binomial test) and report a **disagreement** when too many runs pass it.

A hard minimum (the terms' smallest possible values) at or past the target means the
configuration cannot meet it whatever the seed; a low end (1 % quantile) at or past it
means it is met in at most 1 % of runs: both are warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fakes.sentry.search import ERROR_EVENT_TYPES, parse_search
from rollout.incident.escalation import CHAIN
from rollout.release.flags import FlagEnv
from sim.results import detection as first_passage_model
from sim.results import quantiles
from sim.scenario.model import Scenario
from sim.scenario.paths import path_spec
from sim.scenario.units import DistSpec
from sim.world.monitoring import SentryPipeline

# Below this ratio of steady error rate to threshold the breach is marginal: per-window
# noise can hold the aggregate under the threshold for several evaluations.
MARGINAL = 1.5
# Each end of a range drawn from human delays holds in at least this share of runs.
QUANTILE = 0.99
TAIL = round(1 - QUANTILE, 12)


@dataclass(frozen=True)
class Bound:
    """The range a metric can take under the scenario's mechanics (None: no closed form)."""

    metric: str
    low: float | None
    high: float | None
    how: str
    warning: str | None = None
    tail: float = 0.0  # the share of runs allowed past each end (0: none, by construction)
    caveat: str | None = None  # what the mechanics assume and this configuration may not give

    @property
    def firm(self) -> bool:
        """Whether the mechanics the range rests on hold in this configuration."""
        return self.caveat is None

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "low": _finite(self.low), "high": _finite(self.high),
                "how": self.how, "warning": self.warning, "tail": round(self.tail, 6),
                "quantile": None if self.tail == 0 else round(1 - self.tail, 6),
                "firm": self.firm, "caveat": self.caveat}


def bounds(scenario: Scenario, passage: bool = True) -> list[Bound]:
    """The analytic range of each timing metric; empty when the scenario injects no fault.
    ``passage=False``: see ``detection``."""
    if not _fault(scenario):
        return []
    detect = detection(scenario, passage)
    if detect.warning and detect.low is None and detect.high is None:
        never = "the alert never fires, so this never happens"
        return [detect, Bound("time_to_decision_s", None, None, never, _never("decision")),
                Bound("time_to_rollback_s", None, None, never, _never("rollback"))]
    return [detect, decision(scenario), rollback(scenario)]


def warnings(scenario: Scenario) -> list[str]:
    """One line for every target the configuration cannot meet, whatever the seed.
    A marginal breach's first passage (``sim.results.detection``, tens of ms) gives a
    range, never a warning, so it is not computed here."""
    return [b.warning for b in bounds(scenario, passage=False) if b.warning]


def nominal_exposure(scenario: Scenario) -> float:
    """Share of users the flag configuration shows the new page to at the drill's start."""
    if not scenario.world.current.has_redesign:
        return 0.0
    f, pop = scenario.flag, scenario.population
    internal = pop.internal_users / pop.users
    env = FlagEnv(f.env.VITE_FEATURE_CONTACTS_REDESIGN, f.env.VITE_ROLLOUT_PERCENTAGE)
    if f.mode == "remote":
        return f.posthog.rollout_percentage / 100 if f.posthog.active else 0.0
    if not env.feature_enabled:
        return 0.0
    if f.mode == "internal":
        return internal
    pct = env.rollout_percentage
    share = 0.0 if math.isnan(pct) else min(max(pct, 0.0), 100.0) / 100
    return internal + (1 - internal) * share


def detection(scenario: Scenario, passage: bool = True) -> Bound:
    """At most the alert rule's bound once the breach is sustained; never if it cannot be.
    ``passage=False`` leaves a marginal breach's range open (no upper end) instead of
    computing its first passage: the warning is the same either way (none)."""
    bound = SentryPipeline(None, scenario.monitoring).alert_bound() + scenario.tick
    target = scenario.targets.time_to_detect_s
    m = scenario.monitoring
    how = ("window + tick + SDK flush (session rules) + ingest + resolution "
           f"({m.alert.resolution_s:g} s) + Snuba's delay ({m.alert.subscription_delay_s:g} s)"
           f" + evaluation interval ({m.evaluation_interval:g} s) + evaluation period "
           f"({m.evaluation_period:g} s) × further consecutive breaches")
    others = _other_faults(scenario)
    if others:
        return Bound("time_to_detect_s", 0.0, None, f"no closed form: {others}")
    if _filters(scenario.monitoring.alert.query):
        query = scenario.monitoring.alert.query
        return Bound("time_to_detect_s", 0.0, bound, f"{how}, if the rule's query "
                     f"({query!r}) matches the faulty events",
                     caveat=f"that the rule's query ({query!r}) matches the faulty events")
    steady = _steady_breach(scenario)
    if steady is not None and not steady[0]:
        return Bound("time_to_detect_s", None, None, steady[1],
                     f"time to detect: the alert can never fire — {steady[1]}; the target "
                     f"(< {target:g} s) cannot be met whatever the seed")
    if steady is None:
        return Bound("time_to_detect_s", 0.0, bound, how)
    how += f"; {steady[1]}"
    if steady[2] >= MARGINAL:
        return Bound("time_to_detect_s", 0.0, bound, how)
    if not passage:
        return Bound("time_to_detect_s", 0.0, None, how)
    quantile = _first_passage(scenario)
    if quantile is None:
        return Bound("time_to_detect_s", 0.0, bound, how, caveat=(
            f"a sustained breach; this one is marginal (steady value {steady[2]:.2f} × the "
            f"threshold, under {MARGINAL:g} ×): noise in the error rate can keep the alert "
            "below threshold past this bound"))
    return Bound("time_to_detect_s", 0.0, quantile,
                 f"a marginal breach (steady value {steady[2]:.2f} × the threshold): the "
                 f"first passage of the window's Poisson error count over the threshold, "
                 f"its {100 * QUANTILE:g} % quantile over {first_passage_model.TRIALS:,} trials "
                 f"(passed by at most {100 * TAIL:g} % of runs); {steady[1]}",
                 tail=TAIL)


def _first_passage(scenario: Scenario) -> float | None:
    """The first-passage quantile of a marginal error-count breach (``sim.results.detection``);
    None for other rules."""
    rule, fault = scenario.monitoring.alert, _fault(scenario)
    if rule.aggregate != "count()" or rule.threshold_type != "above":
        return None
    x, tr = nominal_exposure(scenario), scenario.traffic
    hit_new = fault.error_rate if "new" in fault.variants else tr.error_rate_new
    hit_old = fault.error_rate if "old" in fault.variants else tr.error_rate_old
    onset = math.ceil(fault.at / scenario.tick - 1e-9) * scenario.tick
    return first_passage_model.first_passage(
        scenario, onset, x, (tr.error_rate_new, tr.error_rate_old), (hit_new, hit_old),
        pageviews_per_s, QUANTILE)


def _filters(query: str) -> bool:
    """Whether a rule's query may drop the fault's events: any term but the error event
    types (``event.type:error`` keeps every error)."""
    search = parse_search(query)
    return bool(search.text) or any(
        key != "event.type" or value not in ERROR_EVENT_TYPES for key, value in search.terms)


def _steady_breach(scenario: Scenario) -> tuple[bool, str, float] | None:
    """Whether the fault, at the nominal exposure, breaches the rule, how it reads, and the
    margin (steady value over threshold, either way up); None: no closed form."""
    rule, fault = scenario.monitoring.alert, _fault(scenario)
    x, base = nominal_exposure(scenario), scenario.traffic.error_rate_old
    if "old" in fault.variants:
        base = fault.error_rate
    if rule.aggregate == "count()" and rule.threshold_type == "above":
        share = x * fault.error_rate + (1 - x) * base
        views = pageviews_per_s(scenario, fault.at) * rule.time_window
        count, pct = share * views, 100 * rule.threshold / views if views else math.inf
        return (count > rule.threshold, f"steady errors ≈ {count:.1f} per "
                f"{rule.time_window / 60:g} min (≈ {100 * share:.2f} % of page views, exposure "
                f"{100 * x:.1f} %) against a threshold of {rule.threshold:g} events "
                f"(≈ {pct:.2f} % of the {views:.0f} page views expected then)",
                count / rule.threshold if rule.threshold else math.inf)
    if rule.is_crash_rate:
        crash_free = 100 * (1 - (x * fault.error_rate if fault.crash else 0.0))
        crashing, allowed = 100 - crash_free, 100 - rule.threshold
        return (crash_free < rule.threshold, f"steady crash-free sessions ≈ {crash_free:.2f} % "
                f"against a threshold of {rule.threshold:g} %",
                crashing / allowed if allowed > 0 else math.inf)
    return None


def pageviews_per_s(scenario: Scenario, t: float) -> float:
    """Expected page views per second at virtual time ``t`` (the traffic model's daily
    cycle times the views per visit)."""
    tr = scenario.traffic
    hour = (scenario.start.hour + scenario.start.minute / 60 + t / 3600.0) % 24
    cycle = 1 + tr.daily_amplitude * math.cos(2 * math.pi * (hour - tr.peak_hour_utc) / 24)
    visits = scenario.population.users * tr.visits_per_user_per_day / 86400.0 * cycle
    return visits * tr.pageviews_per_visit


def decision(scenario: Scenario) -> Bound:
    """Automated: the automation latency after the alert's webhook. Human: the page's first
    acknowledgement (the escalation chain) plus the decision delay, at the sum's
    quantiles."""
    r, target = scenario.responder, scenario.targets.time_to_decision_s
    if r.mode == "automated":
        latency = r.automation_latency
        return Bound("time_to_decision_s", latency, latency, "automation latency (the "
                     "automation acts on the alert's webhook, unpaged)",
                     _cannot("time to decision", latency, latency, 0.0, target))
    c = scenario.incident
    levels = [c.level_ack_delay(level) for level in range(1, len(CHAIN) + 1)]
    first = _first_ack_min(levels, c.escalation_timeout)
    chain = _chain(levels, c.escalation_timeout)
    if math.isinf(first):
        return Bound("time_to_decision_s", None, None, f"nobody acknowledges the page ({chain})",
                     "time to decision: nobody ever acknowledges the page, so no decision "
                     "is taken and the target cannot be met whatever the seed")
    total = _Sum()
    total.add_cdf(quantiles.escalation(levels, c.escalation_timeout), first)
    total.add(r.decision_delay)
    low, high, tail = total.range()
    how = (f"page → first acknowledgement ({chain}) + decision delay "
           f"{r.decision_delay.describe()}{_at_quantiles(tail)}")
    return Bound("time_to_decision_s", low, high, how,
                 _cannot("time to decision", total.hard_low, low, tail, target), tail)


def rollback(scenario: Scenario) -> Bound:
    """Manual steps, the API calls up to the change users see (their latency), plus the
    platform's own time, seen at the next tick."""
    r, w = scenario.responder, scenario.world
    model = path_spec(r.path).bound  # the manual steps its procedure yields, and then what
    if model is None:
        return Bound("time_to_rollback_s", None, None, f"no closed form for path {r.path}")
    total = _Sum()
    if r.mode == "human":
        total.add(r.step_time, times=model.steps)
    how = f"{model.steps} manual steps" + (f" ({r.step_time.describe()} each)"
                                           if r.mode == "human" else " (automated: instant)")
    if model.calls and model.api is not None:
        latency = w.api_latency.of(model.api)
        total.add(latency, times=model.calls)
        how += f" + {model.calls} {model.api} API calls ({latency.describe()} each)"
    if model.then == "redeploy":
        total.add(w.queue_time)
        total.add(w.build_time)
        how += " + queue + build (the new bundle must be READY)"
    elif model.then == "alias-swap":
        total.add(w.alias_propagation)
        how += f" + alias swap ({w.alias_propagation.describe()})"
    low, high, tail = total.range()
    high += scenario.tick
    hard = total.hard_low
    how += f" + up to one tick until the next page loads{_at_quantiles(tail)}"
    disturbed = _disturbed(scenario)
    if disturbed:
        high, how = math.inf, f"{how}; no upper bound: {disturbed}"
    if any(getattr(f, "until", None) is not None for f in scenario.faults):
        low, hard, how = 0.0, 0.0, how + " (the fault may end on its own first)"
    return Bound("time_to_rollback_s", low, high, how,
                 _cannot("time to rollback", hard, low, tail,
                         scenario.targets.time_to_rollback_s), tail)


class _Sum:
    """A metric as a sum of independent terms: fixed seconds and drawn durations."""

    def __init__(self) -> None:
        self.fixed = 0.0
        self.hard_low = 0.0  # the smallest value the sum can take
        self.draws: list[quantiles.Cdf] = []

    def add(self, dist: DistSpec, times: int = 1) -> None:
        """``times`` independent draws of ``dist``."""
        value = quantiles.fixed_value(dist)
        if value is not None:
            self.fixed += times * value
        else:
            self.draws += [quantiles.of_dist(dist)] * times
        self.hard_low += times * _low(dist)

    def add_cdf(self, cdf: quantiles.Cdf, hard_low: float) -> None:
        self.draws.append(cdf)
        self.hard_low += hard_low

    def range(self) -> tuple[float, float, float]:
        """(low, high, tail): the sum's TAIL and QUANTILE quantiles (exact when nothing is
        drawn, with tail 0)."""
        low, high = quantiles.sum_bounds(self.draws, QUANTILE)
        return (round(self.fixed + low, 3), round(self.fixed + high, 3),
                TAIL if self.draws else 0.0)


def _first_ack_min(levels: list[DistSpec | None], timeout: float) -> float:
    """The earliest the page can be acknowledged (inf: nobody ever acknowledges)."""
    at = 0.0
    for i, dist in enumerate(levels):
        if dist is not None and (i == len(levels) - 1 or _low(dist) < timeout):
            return at + _low(dist)
        at += timeout
    return math.inf


def _chain(levels: list[DistSpec | None], timeout: float) -> str:
    who = [f"{role.label} {'never' if d is None else 'after ' + d.describe()}"
           for role, d in zip(CHAIN, levels, strict=True)]
    return f", unacknowledged after {timeout:g} s → ".join(who)


def _at_quantiles(tail: float) -> str:
    if tail == 0:
        return ""
    return (f"; from the sum's {100 * tail:g} % to its {100 * (1 - tail):g} % quantile "
            f"(each end passed by at most {100 * tail:g} % of runs)")


def _cannot(label: str, hard: float, low: float, tail: float, target: float) -> str | None:
    if hard >= target:
        return (f"{label}: at least {hard:g} s by construction, so the target (< {target:g} s) "
                f"cannot be met whatever the seed")
    if tail > 0 and low >= target:
        return (f"{label}: at least {math.floor(low):g} s in {100 * (1 - tail):g} % of runs or "
                f"more (the "
                f"low end of its range), so the target (< {target:g} s) is met in at most "
                f"{100 * tail:g} %")
    return None


def _never(what: str) -> str:
    return f"time to {what}: no alert ever fires, so the target cannot be met whatever the seed"


def _fault(scenario: Scenario) -> Any:
    """The first error spike that hits the new page of the live release, or None."""
    current = scenario.world.current.version
    live = [f for f in scenario.faults if f.kind == "error_spike" and "new" in f.variants
            and (f.releases is None or current in f.releases)]
    return live[0] if live else None


def _other_faults(scenario: Scenario) -> str | None:
    others = sorted({f.kind for f in scenario.faults if f.kind != "error_spike"})
    return f"other faults ({', '.join(others)}) change exposure or the response" if others \
        else None


def _disturbed(scenario: Scenario) -> str | None:
    """Why the rollback's closed form may not hold (other faults, a fault in the old page)."""
    others = _other_faults(scenario)
    if others:
        return others
    if any("old" in f.variants for f in scenario.faults if f.kind == "error_spike"):
        return "the old page fails too, so rolling back does not end the incident"
    return None


def _low(dist: DistSpec) -> float:
    """The smallest value a draw of ``dist`` can take."""
    return dist.bounds()[0]


def _high(dist: DistSpec) -> float:
    """The largest value a draw of ``dist`` can take (inf when unbounded)."""
    return dist.bounds()[1]


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 3)
