"""The human-readable outputs of a run: ``report.md`` and the one-screen terminal summary.

The report shows the response chain (alert → page → escalations → acknowledgement →
decision, with times: ``response_chain``) and the incident's impact on users (affected
users over their window, user-minutes, each downtime: ``impact_lines``); both show,
when a critical alert fired before any fault, the false positive and its cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sim.results.gameday import gameday_lines
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
                 "exposure_served", "repeat_incident", "staging_step", "rollout_finished",
                 "false_positive", "false_positive_cost", "impact",
                 "stale_renders_after_recovery")


def response_chain(records: Iterable[Any]) -> list[tuple[float, str, str]]:
    """(t, step, who or what) of the first alert, its page, the escalations of that page,
    its acknowledgement and the decision, in order; empty when no alert paged anyone."""
    chain: list[tuple[float, str, str]] = []
    for r in records:
        d, step = r.data, _chain_step(r, chain)
        if step == "alert":
            chain.append((r.t, "alert", str(d.get("title") or d.get("text") or r.kind)))
        elif step == "page":
            chain.append((r.t, "page", "Incident Lead (PagerDuty trigger)"))
        elif step == "escalated":
            chain.append((float(d["paged_at"]), "escalated", f"{d.get('name')} ({d.get('role')}): "
                                            "nobody acknowledged in time"))
        elif step == "ack":
            chain.append((r.t, "ack", f"{d.get('name')} ({d.get('by')}, level {d.get('level')}"
                                      f", paged at {float(d.get('paged_at', r.t)):.1f} s)"))
        elif step == "decision":
            chain.append((r.t, "decision", f"{d.get('action')} ({d.get('responder')})"))
            return chain
    return chain


def _chain_step(record: Any, chain: list[tuple[float, str, str]]) -> str | None:
    """Which step of the chain ``record`` is, given the steps seen so far."""
    kind, d, seen = record.kind, record.data, {step for _, step, _ in chain}
    if not seen:
        woke = (kind == "alert" and d.get("action") == "critical") or kind == "report"
        return "alert" if woke else None
    if kind == "comms_pagerduty" and d.get("action") == "trigger" and "page" not in seen:
        return "page"
    if kind == "escalated" and "paged_at" in d and "ack" not in seen:
        return "escalated"
    if kind == "comms_pagerduty" and d.get("action") == "acknowledge" and "ack" not in seen:
        return "ack"
    return "decision" if kind == "decision" else None


def chain_text(records: Iterable[Any]) -> str:
    """The chain on one line: ``alert 10.0 s → page 10.0 s → ack 130.0 s → …``."""
    return " → ".join(f"{step} {t:.1f} s" for t, step, _ in response_chain(records))


def false_positive_text(fp: dict[str, Any]) -> str:
    """One sentence on a false positive and its cost."""
    text = f"critical alert '{fp['title']}' at {fp['alert_s']:.1f} s, before any fault"
    if fp.get("fault_onset_s") is not None:
        text += f" (the fault began at {fp['fault_onset_s']:.1f} s)"
    if fp.get("decision_s") is not None:
        text += f"; decision {fp['action']} at {fp['decision_s']:.1f} s"
    if fp.get("rollback_completed_s") is not None:
        text += (f"; rolled back via {fp['rollback_path']} at "
                 f"{fp['rollback_completed_s']:.1f} s: the new page was off for everyone for "
                 f"{_fmt_seconds(fp['new_page_off_s'])}")
    return text


def downtimes(records: Iterable[Any]) -> list[tuple[float, float | None]]:
    """(down, up) times of each stretch the app served nobody (up None: still down)."""
    out: list[tuple[float, float | None]] = []
    for r in records:
        if r.kind == "app_down":
            out.append((r.t, None))
        elif r.kind == "app_up" and out and out[-1][1] is None:
            out[-1] = (out[-1][0], r.t)
    return out


def impact_lines(doc: dict[str, Any], records: Iterable[Any]) -> list[str]:
    """What the incident cost users, a line each: affected users over the window,
    user-minutes, and each downtime (empty when no fault began)."""
    im = doc.get("impact")
    if not im:
        return []
    pct = "—" if im["affected_users_pct"] is None else f"{im['affected_users_pct']:.2f} %"
    lines = [f"Affected users: {im['users_impacted']:,} impacted of "
             f"{im['users_active_in_window']:,} active over "
             f"{im['window_start_s']:.0f}–{im['window_end_s']:.0f} s = {pct} "
             f"({im['users_served_faulty']:,} served the faulty page, "
             f"{im['users_visited_down']:,} visited while the app was down)",
             f"User-minutes of impact: {im['user_minutes']:,.0f} (faulty page "
             f"{im['user_minutes_faulty']:,.0f}, downtime {im['user_minutes_down']:,.0f}; "
             f"{im['faulty_visits']:,} + {im['down_visits']:,} visits × "
             f"{im['visit_duration_s']:.0f} s)"]
    for down, up in downtimes(records):
        lines.append(f"Downtime: app down at {down:.1f} s, " + (
            f"up again, healthy, at {up:.1f} s ({up - down:.0f} s users got nothing)"
            if up is not None else "still down at the end of the run"))
    return lines


LIST_SHOWN = 5  # items of a journal list a report shows; the rest are counted


def clock(t: float, start: datetime | None) -> str:
    """Virtual seconds with the calendar time (UTC) beside them: ``7527.8 s · Jan 25
    15:05:27``."""
    if start is None:
        return f"{t:.1f} s"
    return f"{t:.1f} s · {start + timedelta(seconds=t):%b %d %H:%M:%S}"


def journal_rows(records: Iterable[Any], start: datetime | None
                 ) -> list[tuple[str, str, str]]:
    """(time, kind, detail) of each journal record a report shows, a list longer than
    ``LIST_SHOWN`` given as its count and first items (all of it is in journal.jsonl)."""
    return [(clock(r.t, start), r.kind,
             ", ".join(f"{k}={_brief(v)}" for k, v in sorted(r.data.items())))
            for r in records if r.kind in JOURNAL_KINDS or r.kind.startswith("phase")]


def _brief(value: Any) -> Any:
    if isinstance(value, list) and len(value) > LIST_SHOWN:
        shown = ", ".join(str(v) for v in value[:LIST_SHOWN])
        return f"[{len(value):,} items: {shown}, … (all in journal.jsonl)]"
    return value


def data_loss_lines(doc: dict[str, Any], records: Iterable[Any]) -> list[str]:
    """The data-loss figure with its definition, and the rollback's own integrity check
    beside it when that counted otherwise (empty when no write ledger)."""
    loss = doc["metrics"].get("data_loss")
    if loss is None:
        return []
    records = list(records)
    checked = next((r for r in records if r.kind == "ledger_checked"), None)
    lines = [f"Data loss: {loss:,} writes — each contact's latest acknowledged write that "
             "the database no longer holds at the end of the run (the row missing, or "
             "holding other values)"
             + (f": {checked.data['missing']:,} missing, {checked.data['altered']:,} altered "
                f"of {checked.data['checked']:,} checked" if checked else "")]
    at_rollback = next((r for r in records if r.kind == "rollback_completed"
                        and r.data.get("data_loss") is not None), None)
    if at_rollback is not None and at_rollback.data["data_loss"] != loss:
        d = at_rollback.data
        lines.append(f"The rollback's own integrity check at {at_rollback.t:.1f} s counted "
                     f"{d['data_loss']:,} ({len(d.get('missing') or []):,} missing, "
                     f"{len(d.get('altered') or []):,} altered); users' later writes set "
                     "some of those contacts again, so they are not lost at the end")
    return lines


def unmeasured(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The metrics without a value, as lines: those that failed for it (no alert fired:
    its target is missed) and those this scenario does not measure."""
    failed: list[str] = []
    absent: list[str] = []
    for name, reason in doc["reasons"].items():
        line = f"{LABELS[name][0]}: {reason}"
        (failed if doc["status"][name] == "fail" else absent).append(line)
    return failed, absent


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
    verdict = ("PASS" if doc["passed"] else "FAIL") + (
        " (false positive)" if doc.get("false_positive") else "")
    lines = [f"drill {doc['scenario']}  seed={doc['seed']}  path={doc['path']}  "
             f"responder={doc['responder']}  → {verdict}", ""]
    width = max(len(r[1]) for r in metric_rows(doc))
    for label, value, target, status in metric_rows(doc):
        lines.append(f"  {label:<18} {value:>{width}}   target {target:<12} {status}")
    est = doc["runbook_estimate_s"]
    lines += ["", "  one seed, one sample of the drill: `drill run --runs 20` or `drill sweep "
                  "SCENARIO --runs 100` gives each target's P(met)",
              f"  runbook estimate: {est['text']}"]
    if doc.get("impact"):
        im = doc["impact"]
        lines.append(f"  impact: {im['user_minutes']:,.0f} user-minutes (faulty page "
                     f"{im['user_minutes_faulty']:,.0f}, downtime {im['user_minutes_down']:,.0f})")
    failed, absent = unmeasured(doc)
    lines += [f"  missed, no value: {line}" for line in failed]
    lines += [f"  not measured: {line}" for line in absent]
    if doc.get("false_positive"):
        lines.append(f"  FALSE POSITIVE: {false_positive_text(doc['false_positive'])}")
    lines.append(f"  alert rule's detection bound for a sustained breach: "
                 f"{doc['facts']['detection_bound_s']:.0f} s (a marginal one can take longer: "
                 "`drill sweep` checks its first passage)")
    if doc.get("inputs"):
        ins = doc["inputs"]
        lines.append(f"  inputs: calibrated {', '.join(ins['calibrated'])}; "
                     f"{len(ins['defaults'])} at the model's defaults (see report.md)")
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
    lines += ["", *gameday_lines(doc)]
    lines += ["## Runbook estimate beside the model", "",
              f"- Runbook: {est['text']}",
              "- Modelled time to rollback: "
              + fmt_value("time_to_rollback_s", doc["metrics"]["time_to_rollback_s"])
              + verdict_vs_estimate(doc),
              "- Alert rule's detection bound for a sustained breach (window + tick + SDK "
              "flush + ingest + resolution + Snuba's delay + evaluation interval + "
              "evaluation period × further consecutive breaches; a marginal breach can "
              f"take longer, see a sweep's cross-checks): "
              f"{doc['facts']['detection_bound_s']:.0f} s",
              ""]
    impact = impact_lines(doc, result.journal.records)
    if impact:
        lines += ["## Impact on users", "", *[f"- {line}" for line in impact], ""]
    if doc.get("false_positive"):
        lines += ["## False positive", "", false_positive_text(doc["false_positive"]) + ".",
                  "It is not the detection of the fault, and its rollback is not timed as "
                  "the fault's.", ""]
    chain = response_chain(result.journal.records)
    if chain:
        lines += ["## Response chain (alert → page → ack → decision)", "",
                  "| t | step | since the alert | who / what |", "|---|---|---|---|"]
        lines += [f"| {t:.1f} s | {step} | {t - chain[0][0]:.1f} s | {who} |"
                  for t, step, who in chain]
        lines.append("")
    failed, absent = unmeasured(doc)
    for title, items in (("Targets missed with no value", failed), ("Not measured", absent)):
        if items:
            lines += [f"## {title}", "", *[f"- {line}" for line in items], ""]
    loss = data_loss_lines(doc, result.journal.records)
    if loss:
        lines += ["## Data loss", "", *[f"- {line}" for line in loss], ""]
    if doc.get("inputs"):
        from sim.results.inputs import inputs_lines

        lines += ["## Inputs: calibrated, stated, defaults", "", *inputs_lines(doc["inputs"]), ""]
    if doc.get("flag_module"):
        from sim.results.parity import flag_module_lines

        lines += ["## Flag module: the app's own code beside the port", "",
                  *flag_module_lines(doc["flag_module"]), ""]
    lines += ["## Timeline (virtual time since the drill's start · calendar time, UTC)", "",
              "| t | event | detail |", "|---|---|---|"]
    for when, kind, detail in journal_rows(result.journal.records, s.start):
        detail = detail.replace("|", "\\|").replace("\n", "<br>")
        lines.append(f"| {when} | {kind} | {detail} |")
    if result.samples:
        lines += ["", "## Some users served the faulty page", ""]
        lines += [f"- {x['name']} (`{x['id']}`)" for x in result.samples]
    return "\n".join(lines) + "\n"


def verdict_vs_estimate(doc: dict[str, Any]) -> str:
    value = doc["metrics"]["time_to_rollback_s"]
    high = doc["runbook_estimate_s"]["high"]
    if value is None:
        return ""
    if value > high:
        return f" — slower than the runbook's upper estimate by {value - high:.0f} s"
    return " — within the runbook's estimate"


def catalog_table(docs: list[dict[str, Any]]) -> str:
    """The one-line-per-drill table ``drill run`` prints for several scenarios."""
    header = ["scenario", "path", "outcome", *[LABELS[n][0] for n in LABELS], "verdict"]
    rows = [header]
    for d in docs:
        cells = [d["scenario"], d["path"], outcome(d)]
        for name in LABELS:
            mark = {"pass": "✓", "fail": "✗", "not_measured": "·"}[d["status"][name]]
            cells.append(f"{fmt_value(name, d['metrics'][name]).split(' (')[0]} {mark}")
        cells.append("PASS" if d["passed"] else "FAIL")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def outcome(doc: dict[str, Any]) -> str:
    """A rollout drill's GO/NO-GO outcome, a staging drill's, a false positive (a critical
    alert before any fault), or the recovery of a drill."""
    if "rollout" in doc:
        return str(doc["rollout"].get("outcome"))
    if "staging" in doc:
        return f"staging {doc['staging'].get('outcome')}"
    if doc.get("false_positive"):
        return "false positive"
    if doc["reasons"].get("time_to_rollback_s", "").startswith("rollback failed"):
        return "rollback failed"
    if doc["timeline"].get("recovered_s") is not None:
        return "recovered"
    return "no fault" if doc["timeline"].get("fault_onset_s") is None else "not recovered"
