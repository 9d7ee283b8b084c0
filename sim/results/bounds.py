"""Analytic cross-checks: what a scenario's configuration implies before any run.

Where a closed form exists, each timing metric gets the range its mechanics allow:
detection can take no longer than the alert rule's bound (window + tick + SDK flush for
session rules + ingest + the rule's evaluation period, Sentry's resolution for its window,
× consecutive breaches) once the breach is sustained, and
cannot happen at all when the fault's steady error rate stays on the right side of the
threshold; the decision takes the responder's delay; the rollback takes its path's manual
steps plus what the platform adds (queue and build for a redeploy, the alias swap for an
instant rollback), observed at the next tick. A bound at or past the target means the
configuration cannot meet it whatever the seed: that is a warning. Sweeps put these
ranges beside the simulated ones, and say when a simulated value falls outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fakes.sentry.search import ERROR_EVENT_TYPES, parse_search
from rollout.release.flags import FlagEnv
from sim.scenario.model import Scenario
from sim.scenario.paths import path_spec
from sim.scenario.units import DistSpec
from sim.world.monitoring import SentryPipeline

# Below this ratio of steady error rate to threshold the breach is marginal: per-window
# noise can hold the aggregate under the threshold for several evaluations.
MARGINAL = 1.5


@dataclass(frozen=True)
class Bound:
    """The range a metric can take under the scenario's mechanics (None: no closed form)."""

    metric: str
    low: float | None
    high: float | None
    how: str
    warning: str | None = None
    firm: bool = True  # False: the high end holds only on average (a marginal breach)

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "low": _finite(self.low), "high": _finite(self.high),
                "how": self.how, "warning": self.warning, "firm": self.firm}


def bounds(scenario: Scenario) -> list[Bound]:
    """The analytic range of each timing metric; empty when the scenario injects no fault."""
    if not _fault(scenario):
        return []
    detect = detection(scenario)
    if detect.warning and detect.low is None and detect.high is None:
        never = "the alert never fires, so this never happens"
        return [detect, Bound("time_to_decision_s", None, None, never, _never("decision")),
                Bound("time_to_rollback_s", None, None, never, _never("rollback"))]
    return [detect, decision(scenario), rollback(scenario)]


def warnings(scenario: Scenario) -> list[str]:
    """One line for every target the configuration cannot meet, whatever the seed."""
    return [b.warning for b in bounds(scenario) if b.warning]


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


def detection(scenario: Scenario) -> Bound:
    """At most the alert rule's bound once the breach is sustained; never if it cannot be."""
    bound = SentryPipeline(None, scenario.monitoring).alert_bound() + scenario.tick
    target = scenario.targets.time_to_detect_s
    how = ("window + tick + SDK flush (session rules) + ingest + evaluation period "
           f"({scenario.monitoring.evaluation_period:g} s) × consecutive breaches")
    others = _other_faults(scenario)
    if others:
        return Bound("time_to_detect_s", 0.0, None, f"no closed form: {others}")
    if _filters(scenario.monitoring.alert.query):
        return Bound("time_to_detect_s", 0.0, bound, f"{how}, if the rule's query "
                     f"({scenario.monitoring.alert.query!r}) matches the faulty events",
                     firm=False)
    steady = _steady_breach(scenario)
    if steady is not None and not steady[0]:
        return Bound("time_to_detect_s", None, None, steady[1],
                     f"time to detect: the alert can never fire — {steady[1]}; the target "
                     f"(< {target:g} s) cannot be met whatever the seed")
    if steady is None:
        return Bound("time_to_detect_s", 0.0, bound, how)
    marginal = steady[2] < MARGINAL
    how += f"; {steady[1]}" + ("; a marginal breach: noise in the error rate can keep the alert "
                               "below threshold past this bound" if marginal else "")
    return Bound("time_to_detect_s", 0.0, bound, how, firm=not marginal)


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
    """The responder's decision delay: fixed when automated, the drawn delay when human."""
    r, target = scenario.responder, scenario.targets.time_to_decision_s
    if r.mode == "automated":
        low = high = r.automation_latency
        how = "automation latency"
    else:
        low, high = r.decision_delay.bounds()
        how = f"decision delay {r.decision_delay.describe()}"
    return Bound("time_to_decision_s", low, high, how, _cannot("time to decision", low, target))


def rollback(scenario: Scenario) -> Bound:
    """Manual steps, the API calls up to the change users see (their latency), plus the
    platform's own time, seen at the next tick."""
    r, w = scenario.responder, scenario.world
    model = path_spec(r.path).bound  # the manual steps its procedure yields, and then what
    if model is None:
        return Bound("time_to_rollback_s", None, None, f"no closed form for path {r.path}")
    step = r.step_time.bounds() if r.mode == "human" else (0.0, 0.0)
    low, high = model.steps * step[0], model.steps * step[1] + scenario.tick
    how = f"{model.steps} manual steps"
    if model.calls and model.api is not None:
        latency = w.api_latency.of(model.api)
        low += model.calls * _low(latency)
        high += model.calls * _high(latency)
        how += f" + {model.calls} {model.api} API calls ({latency.describe()} each)"
    if model.then == "redeploy":
        low += _low(w.queue_time) + _low(w.build_time)
        high += _high(w.queue_time) + _high(w.build_time)
        how += " + queue + build (the new bundle must be READY)"
    elif model.then == "alias-swap":
        low += _low(w.alias_propagation)
        high += _high(w.alias_propagation)
        how += f" + alias swap ({w.alias_propagation.describe()})"
    how += " + up to one tick until the next page loads"
    disturbed = _disturbed(scenario)
    if disturbed:
        high, how = math.inf, f"{how}; no upper bound: {disturbed}"
    if any(getattr(f, "until", None) is not None for f in scenario.faults):
        low, how = 0.0, how + " (the fault may end on its own first)"
    return Bound("time_to_rollback_s", low, high, how,
                 _cannot("time to rollback", low, scenario.targets.time_to_rollback_s))


def _cannot(label: str, low: float | None, target: float) -> str | None:
    if low is None or low < target:
        return None
    return (f"{label}: at least {low:g} s by construction, so the target (< {target:g} s) "
            f"cannot be met whatever the seed")


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
    return dist.bounds()[0]


def _high(dist: DistSpec) -> float:
    return dist.bounds()[1]


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 3)


def compare(bound: Bound, low: float, high: float) -> str:
    """Whether simulated values from ``low`` to ``high`` fall inside the analytic range."""
    if bound.low is None and bound.high is None:
        return "no closed form" if not bound.warning else (
            "agrees" if math.isinf(low) else "DISAGREES: the simulation got there")
    lo = -math.inf if bound.low is None else bound.low
    hi = math.inf if bound.high is None else bound.high
    tol = 1e-6
    if low >= lo - tol and high <= hi + tol:
        return "agrees"
    if low >= lo - tol and not bound.firm:
        never = " (never, in some runs)" if math.isinf(high) else ""
        return f"beyond the {_show(hi)} s bound{never}, which this configuration allows"
    if low >= lo - tol and math.isinf(high):
        return f"DISAGREES: some runs never got there, the analytic bound is {_show(hi)} s"
    return f"outside the analytic range ({_show(lo)}–{_show(hi)} s)"


def _show(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:g}"
