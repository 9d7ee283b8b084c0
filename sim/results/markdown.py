"""The human-readable outputs of a run: ``report.md`` and the one-screen terminal summary."""

from __future__ import annotations

from typing import Any

from sim.results.run import RunResult

LABELS = {
    "time_to_detect_s": ("Time to detect", "s"),
    "time_to_decision_s": ("Time to decision", "s"),
    "time_to_rollback_s": ("Time to rollback", "s"),
    "affected_users_pct": ("Affected users", "%"),
    "data_loss": ("Data loss", " writes"),
    "repeat_incidents": ("Repeat incidents", ""),
}
JOURNAL_KINDS = ("drill_started", "fault_started", "alert", "decision", "rollback_started",
                 "manual_step", "rollback_completed", "rollback_failed", "recovered",
                 "horizon_reached_unrecovered", "alert_silent", "posthog_unreachable",
                 "posthog_reachable", "metric_unavailable", "fallback_decision", "app_down",
                 "app_up", "ledger_checked", "scenario3_triggered", "ci_queued", "ci_deployed",
                 "ci_failed", "comms_slack", "comms_statuspage", "comms_pagerduty", "notified",
                 "escalated", "comms_failed", "mock_data_enabled", "gate", "phase_started",
                 "exposure_served", "repeat_incident", "staging_step", "rollout_finished")


def fmt_value(name: str, value: Any) -> str:
    if value is None:
        return "—"
    unit = LABELS[name][1]
    if unit == "s":
        return _fmt_seconds(float(value))
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value}{unit}"


def _fmt_seconds(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{seconds:.1f} s ({int(minutes)}m{rest:04.1f}s)" if minutes else f"{seconds:.1f} s"


def fmt_target(name: str, target: Any) -> str:
    op = "≤" if name in ("data_loss", "repeat_incidents") else "<"
    return f"{op} {fmt_value(name, target)}"


def metric_rows(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, (label, _) in LABELS.items():
        status = doc["status"][name].upper().replace("_", " ")
        rows.append((label, fmt_value(name, doc["metrics"][name]),
                     fmt_target(name, doc["targets"][name]), status))
    return rows


def render_terminal(doc: dict[str, Any], out_dir: str | None = None) -> str:
    """The one-screen summary ``drill run`` prints."""
    verdict = "PASS" if doc["passed"] else "FAIL"
    lines = [f"drill {doc['scenario']}  seed={doc['seed']}  path={doc['path']}  "
             f"responder={doc['responder']}  → {verdict}", ""]
    width = max(len(r[1]) for r in metric_rows(doc))
    for label, value, target, status in metric_rows(doc):
        lines.append(f"  {label:<18} {value:>{width}}   target {target:<12} {status}")
    est = doc["runbook_estimate_s"]
    lines += ["", f"  runbook estimate: {est['text']}"]
    for name, reason in doc["reasons"].items():
        lines.append(f"  {LABELS[name][0]}: not measured — {reason}")
    lines.append(f"  detection bound implied by the alert rule: "
                 f"{doc['facts']['detection_bound_s']:.0f} s")
    if out_dir:
        lines.append(f"  written to {out_dir}/")
    return "\n".join(lines)


def render_markdown(result: RunResult, doc: dict[str, Any]) -> str:
    """``report.md``: metrics against targets, runbook estimate, timeline, samples."""
    s = result.scenario
    est = doc["runbook_estimate_s"]
    lines = [f"# Drill report: {s.name}", "", s.description.strip(), "",
             f"Seed {doc['seed']} · path `{doc['path']}` · responder {doc['responder']} · "
             f"{s.population.users:,} users · horizon {s.horizon / 3600:g} h · "
             f"verdict **{'PASS' if doc['passed'] else 'FAIL'}**", "",
             "| Metric | Measured | Target | Status |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in metric_rows(doc)]
    lines += ["", "## Runbook estimate beside the model", "",
              f"- Runbook: {est['text']}",
              "- Modelled time to rollback: "
              + fmt_value("time_to_rollback_s", doc["metrics"]["time_to_rollback_s"])
              + _verdict_vs_estimate(doc),
              "- Detection bound implied by the alert rule (window + tick + SDK flush + "
              f"ingest + evaluation × consecutive breaches): "
              f"{doc['facts']['detection_bound_s']:.0f} s",
              ""]
    if doc["reasons"]:
        lines += ["## Not measured", ""]
        lines += [f"- {LABELS[n][0]}: {r}" for n, r in doc["reasons"].items()]
        lines.append("")
    lines += ["## Timeline (virtual time since the drill's start)", "", "| t | event | detail |",
              "|---|---|---|"]
    for record in result.journal.records:
        if record.kind in JOURNAL_KINDS:
            detail = ", ".join(f"{k}={v}" for k, v in sorted(record.data.items()))
            detail = detail.replace("|", "\\|").replace("\n", "<br>")
            lines.append(f"| {record.t:.1f} s | {record.kind} | {detail} |")
    if result.samples:
        lines += ["", "## Some users served the faulty page", ""]
        lines += [f"- {x['name']} (`{x['id']}`)" for x in result.samples]
    return "\n".join(lines) + "\n"


def _verdict_vs_estimate(doc: dict[str, Any]) -> str:
    value = doc["metrics"]["time_to_rollback_s"]
    high = doc["runbook_estimate_s"]["high"]
    if value is None:
        return ""
    if value > high:
        return f" — slower than the runbook's upper estimate by {value - high:.0f} s"
    return " — within the runbook's estimate"
