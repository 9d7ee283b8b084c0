"""The runbook's rollback metrics of one run, each against its target.

Every value is read off the journal and the traffic marks: detection is the first
critical alert after the fault's onset on a window ending after it, decision the
responder's first decision after it, rollback the first moment the previous version
serves users, healthy, and nobody gets the faulty page (a stopped app is downtime, not
recovery), affected users the share of the window's active users the incident impacted
(``sim.results.impact``). A metric that could not occur is None with its reason, and
the reason is also in the journal.

A critical alert before any fault began, or one whose window ended by the fault's onset
(it fires Snuba's delay after its window ends, ``fakes.sentry.subscriptions``, so it read
only data from before the fault), is a **false positive**, its own outcome: it is
never the detection of a later fault, and the rollback it set off is never timed as that
fault's rollback. ``Metrics.false_positive`` holds what it cost (the decision and
rollback it triggered, how long the new page was off for everyone before the fault, or to
the end of the run) and a ``false_positive_cost`` journal line says the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.journal import Journal
from sim.results.impact import Impact, impact_of
from sim.scenario.model import Scenario
from sim.world.page_loads import TrafficStats

METRICS = ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s",
           "affected_users_pct", "data_loss", "repeat_incidents")


@dataclass(frozen=True)
class Measure:
    """One metric: its value (or None), its target, its status and, when None, why."""

    name: str
    value: float | int | None
    target: float | int
    status: str  # "pass" | "fail" | "not_measured"
    reason: str | None = None


@dataclass(frozen=True)
class Metrics:
    measures: dict[str, Measure]
    false_positive: dict[str, Any] | None = None
    impact: Impact | None = None

    @property
    def passed(self) -> bool:
        return all(m.status != "fail" for m in self.measures.values())

    def values(self) -> dict[str, Any]:
        return {name: m.value for name, m in self.measures.items()}


def measure(scenario: Scenario, journal: Journal, stats: TrafficStats,
            onset: float | None, data_loss: int | None = None) -> Metrics:
    """Measure the run; records a ``metric_unavailable`` journal line for each None."""
    targets = scenario.targets.model_dump()
    false_positive = _false_positive(journal, onset)
    impact = impact_of(scenario, stats, onset)
    raw = _raw(journal, impact, onset, false_positive)
    if data_loss is not None:
        raw["data_loss"] = (data_loss, None, True)
    measures = {}
    for name in METRICS:
        value, reason, must_occur = raw[name]
        measures[name] = _judge(name, value, targets[name], reason, must_occur)
        if value is None:
            journal.add("metric_unavailable", metric=name, reason=reason)
    if false_positive is not None:
        journal.add("false_positive_cost", **false_positive)
    if impact is not None:
        journal.add("impact", **impact.as_dict())
    return Metrics(measures, false_positive, impact)


def _judge(name: str, value: float | int | None, target: float | int, reason: str | None,
           must_occur: bool) -> Measure:
    if value is None:
        return Measure(name, None, target, "fail" if must_occur else "not_measured", reason)
    inclusive = name in ("data_loss", "repeat_incidents")
    ok = value <= target if inclusive else value < target
    return Measure(name, value, target, "pass" if ok else "fail")


Raw = tuple[float | int | None, str | None, bool]


def _raw(journal: Journal, impact: Impact | None, onset: float | None,
         false_positive: dict[str, Any] | None) -> dict[str, Raw]:
    if onset is None:
        none: Raw = (None, "the scenario injects no fault", False)
        return {name: none for name in METRICS[:4]} | _untracked()
    alert = next((r for r in journal.records if r.t >= onset and (
        (r.kind == "alert" and r.data.get("action") == "critical"
         and not _pre_fault(r, onset)) or r.kind == "report")), None)
    decision = None if alert is None else next(
        (r for r in journal.of("decision") if r.t >= alert.t), None)
    recovered = journal.first("recovered")
    if false_positive is not None and alert is None:
        return _after_false_positive(false_positive, recovered is not None, impact)
    silent = journal.first("alert_silent")
    no_alert = "no critical alert fired before the horizon" + (
        f" ({silent.data['reason']}: {silent.data['no_data_evaluations']} of "
        f"{silent.data['evaluations']} evaluations had no data)" if silent else "")
    out: dict[str, Raw] = {
        "time_to_detect_s": _span(onset, alert, no_alert),
        "time_to_decision_s": _span(alert.t if alert else None, decision,
                                    "no alert, so no decision" if alert is None
                                    else "no decision was taken before the horizon"),
        "time_to_rollback_s": _rollback(decision, recovered, journal),
        "affected_users_pct": _affected(impact),
    }
    return out | _untracked()


def _after_false_positive(fp: dict[str, Any], recovered: bool,
                          impact: Impact | None) -> dict[str, Raw]:
    """The fault's metrics when a false positive came first and no alert followed the
    fault: nothing of the fault is timed; when the false positive's rollback kept users
    from the fault, that is not a miss (not measured), otherwise the fault went unseen."""
    why = (f"a false positive (critical alert at {fp['alert_s']:.1f} s, before the fault) "
           "was acted on; ")
    if recovered:
        why += "its rollback kept users from the later fault, so nothing was left to detect"
    else:
        why += "no critical alert fired for the fault itself before the horizon"
    out: dict[str, Raw] = {name: (None, why, not recovered) for name in METRICS[:3]}
    return out | {"affected_users_pct": _affected(impact)} | _untracked()


def _false_positive(journal: Journal, onset: float | None) -> dict[str, Any] | None:
    """The first critical alert before any fault's onset and what it set off, or None."""
    alert = next((r for r in journal.of("alert") if r.data.get("action") == "critical"
                  and (onset is None or r.t < onset or _pre_fault(r, onset))), None)
    if alert is None:
        return None
    until = onset if onset is not None else journal.records[-1].t
    decision = next((r for r in journal.of("decision") if alert.t <= r.t < until), None)
    done = None if decision is None else next(
        (r for r in journal.of("rollback_completed") if decision.t <= r.t < until), None)
    return {"alert_s": round(alert.t, 3), "title": alert.data.get("title"),
            "fault_onset_s": onset,
            "decision_s": None if decision is None else round(decision.t, 3),
            "action": None if decision is None else decision.data.get("action"),
            "rollback_path": None if done is None else done.data.get("path"),
            "rollback_completed_s": None if done is None else round(done.t, 3),
            "new_page_off_s": None if done is None else round(until - done.t, 3)}


def _pre_fault(alert: Any, onset: float) -> bool:
    """Whether an alert read only data from before the fault: the window of the update
    that fired it (``window_end_s``, Sentry's ``date_detected``) ended by the onset."""
    end = alert.data.get("window_end_s")
    return end is not None and end <= onset


def _span(start: float | None, end: Any, reason: str) -> Raw:
    if start is None or end is None:
        return (None, reason, True)
    return (round(end.t - start, 3), None, True)


def _rollback(decision: Any, recovered: Any, journal: Journal) -> Raw:
    failed = _last(journal, "rollback_failed")
    completed = _last(journal, "rollback_completed")
    if failed is not None and (completed is None or completed.t < failed.t):
        # Users may no longer get the faulty page (a stopped app serves nothing), but the
        # procedure did not bring the old version back: that is not a rollback.
        return (None, f"rollback failed at {failed.data['where']}: {failed.data['error']}",
                True)
    if decision is None:
        if recovered is not None:
            return (None, "the fault ended without a rollback decision", False)
        return (None, "no rollback decision was taken", True)
    if recovered is None:
        why = f"rollback failed at {failed.data['where']}" if failed else \
            "users were still served the faulty page at the horizon"
        return (None, why, True)
    return (round(max(0.0, recovered.t - decision.t), 3), None, True)


def _last(journal: Journal, kind: str) -> Any:
    found = None
    for record in journal.of(kind):
        found = record
    return found


def _affected(impact: Impact | None) -> Raw:
    """Users impacted ÷ users active over the affected-users window, × 100."""
    if impact is None:
        return (None, "the users active over the affected-users window were not counted",
                False)
    if impact.pct is None:
        return (None, "no user was active over the affected-users window", False)
    return (impact.pct, None, True)


def _untracked() -> dict[str, Raw]:
    return {
        "data_loss": (None, "this scenario models no database writes (no write ledger)", False),
        "repeat_incidents": (None, "this scenario has no fix and re-rollout phase", False),
    }
