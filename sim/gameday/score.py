"""The game day's scoreboard: the incident's markers and the person's times, as measured.

Everything here is read from the drill's journal, which the traffic and the fakes wrote:
the fault's onset (the traffic's first faulty tick), the alert (the Sentry webhook the
pager verified), the page (the PagerDuty trigger), its acknowledgement (the PagerDuty
incident's ``acknowledged_at``), the decision (the first change to what users get after
the alert) and recovery (the first tick nobody gets the faulty page). Times follow the
runbook's definitions (``sim.results.metrics``): detect = onset → alert, decide = alert →
decision, rollback = decision → recovery.
"""

from __future__ import annotations

from typing import Any

from sim.journal import Journal, Record

MARKERS = (("fault", "fault_started"), ("alert", "alert"), ("page", "comms_pagerduty"),
           ("acknowledged", "acknowledged"), ("decision", "decision"),
           ("recovered", "recovered"), ("resolved", "gameday_over"))


def markers(journal: Journal, rounded: bool = True) -> dict[str, float | None]:
    """The virtual second of each incident marker (None: not yet), to the millisecond
    unless ``rounded`` is False (spans are taken from the exact times, then rounded, as
    ``sim.results.metrics`` does)."""
    out: dict[str, float | None] = {}
    for name, kind in MARKERS:
        record = _first(journal, kind)
        out[name] = None if record is None else (round(record.t, 3) if rounded else record.t)
    return out


def _first(journal: Journal, kind: str) -> Record | None:
    if kind == "alert":
        return next((r for r in journal.of("alert") if r.data.get("action") == "critical"),
                    None)
    if kind == "comms_pagerduty":
        return next((r for r in journal.of(kind) if r.data.get("action") == "trigger"), None)
    if kind == "acknowledged":  # a person's (game day) or the modelled chain's
        return journal.first(kind) or next(
            (r for r in journal.of("comms_pagerduty") if r.data.get("action") == "acknowledge"),
            None)
    return journal.first(kind)


def times(marks: dict[str, float | None]) -> dict[str, float | None]:
    """The runbook's spans (and the acknowledgement's delay) from the markers (pass the
    exact ones: ``markers(journal, rounded=False)``)."""
    return {"time_to_detect_s": _span(marks["fault"], marks["alert"]),
            "time_to_acknowledge_s": _span(marks["page"], marks["acknowledged"]),
            "time_to_decision_s": _span(marks["alert"], marks["decision"]),
            "time_to_rollback_s": _span(marks["decision"], marks["recovered"])}


def _span(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, end - start), 3)


def scoreboard(journal: Journal, targets: dict[str, Any],
               modelled: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per runbook time: measured, the target, the modelled responder's."""
    measured = times(markers(journal, rounded=False))
    rows = []
    for name, value in measured.items():
        target = targets.get(name)
        verdict = None if value is None or target is None else \
            ("pass" if value < target else "fail")
        rows.append({"metric": name, "measured": value, "target": target,
                     "modelled": None if modelled is None else modelled.get(name),
                     "verdict": verdict})
    return rows
