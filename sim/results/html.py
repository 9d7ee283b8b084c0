"""The self-contained ``report.html`` of a run and of a sweep.

Figures are inlined as base64 PNG (and also written beside the page as files), styles
are inline, there is no script and no external resource: the page opens from disk with
no network. (Named ``html_report`` so it can never shadow the standard ``html`` module.)
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.results.crosscheck import ALPHA
from sim.results.markdown import (
    LABELS,
    data_loss_lines,
    false_positive_text,
    fmt_target,
    fmt_value,
    impact_lines,
    journal_rows,
    metric_rows,
    response_chain,
    unmeasured,
    verdict_vs_estimate,
)

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:14px}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#137333;font-weight:600}.fail{color:#c5221f;font-weight:600}
.muted{color:#666}.verdict{font-size:1.1rem}.warn{background:#fff4e5;border-left:4px solid
#f29900;padding:.5rem .8rem;margin:.4rem 0}.disagree{background:#fce8e6;border-left:4px solid
#c5221f;padding:.5rem .8rem;margin:.4rem 0}figure{margin:1rem 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:13px}
"""


def page(title: str, body: Iterable[str]) -> str:
    """A complete HTML document around ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><meta name=\"viewport\" "
            f"content=\"width=device-width,initial-scale=1\"><style>{CSS}</style></head>"
            "<body>\n" + "\n".join(body) + "\n</body></html>\n")


def figure(name: str, png: bytes, caption: str, files: Sequence[str] = ()) -> str:
    """An inline PNG with its caption and links to the files written beside the page."""
    data = base64.b64encode(png).decode("ascii")
    links = " · ".join(f'<a href="{_e(f)}">{_e(f)}</a>' for f in files)
    return (f'<figure id="fig-{_e(name)}"><img class="figure" alt="{_e(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)}'
            f"{' — ' + links if links else ''}</figcaption></figure>")


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
          ) -> str:
    """A table; cells are escaped unless given as ``Raw``."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i in numeric else ''}>{_cell(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Raw(str):
    """Markup a table cell passes through unescaped."""


def status(text: str) -> Raw:
    css = {"PASS": "pass", "FAIL": "fail"}.get(text.upper(), "muted")
    return Raw(f'<span class="{css}">{_e(text)}</span>')


def _cell(value: Any) -> str:
    return value if isinstance(value, Raw) else _e("" if value is None else str(value))


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


# ---- one run -----------------------------------------------------------------------------


def run_page(doc: dict[str, Any], records: Iterable[Any], figures: dict[str, bytes],
             files: Mapping[str, Sequence[str]], description: str = "",
             start: datetime | None = None) -> str:
    """``report.html`` of one run: verdict, metrics against targets, the impact on users
    (with each downtime), a false positive, the response chain, timeline, journal."""
    records = list(records)
    verdict = "PASS" if doc["passed"] else "FAIL"
    facts, rollback = doc["facts"], doc["metrics"]["time_to_rollback_s"]
    body = [f"<h1>Drill report: {_e(doc['scenario'])}</h1>",
            f"<p class=\"muted\">{_e(description.strip())}</p>",
            f"<p class=\"verdict\">Seed {doc['seed']} · path <code>{_e(doc['path'])}</code> · "
            f"responder {_e(doc['responder'])} · {facts['users']:,} users · verdict "
            f"{status(verdict)}</p>",
            "<h2>Metrics against the runbook's targets</h2>",
            table(("Metric", "Measured", "Target", "Status"),
                  [(a, b, c, status(d)) for a, b, c, d in metric_rows(doc)], numeric=(1,))]
    failed, absent = unmeasured(doc)
    body += [f"<p class=\"fail\">Missed, no value: {_e(line)}</p>" for line in failed]
    body += [f"<p class=\"muted\">Not measured: {_e(line)}</p>" for line in absent]
    for title, lines in (("Impact on users", impact_lines(doc, records)),
                         ("Data loss", data_loss_lines(doc, records))):
        if lines:
            body += [f"<h2>{title}</h2>",
                     "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"]
    if doc.get("false_positive"):
        body += ["<h2>False positive</h2>",
                 f"<p>{_e(false_positive_text(doc['false_positive']))}. It is not the "
                 "detection of the fault, and its rollback is not timed as the fault's.</p>"]
    chain = response_chain(records)
    if chain:
        body += ["<h2>Response chain (alert → page → ack → decision)</h2>",
                 table(("t (s)", "step", "since the alert (s)", "who / what"),
                       [(f"{t:.1f}", step, f"{t - chain[0][0]:.1f}", who)
                        for t, step, who in chain], numeric=(0, 2))]
    body += ["<h2>Timeline</h2>"]
    captions = {"incident": "The incident, zoomed: traffic, error rate per variant over the "
                            "alert's window, exposure; phases shaded, markers dashed.",
                "timeline": "The whole drill."}
    body += [figure(name, figures[name], captions.get(name, name), files.get(name, ()))
             for name in figures]
    body += ["<h2>Runbook estimate beside the model</h2>",
             f"<p>Runbook: {_e(doc['runbook_estimate_s']['text'])}<br>Modelled time to "
             f"rollback: {_e(fmt_value('time_to_rollback_s', rollback))}"
             f"{_e(verdict_vs_estimate(doc))}"
             f"<br>Alert rule's detection bound for a sustained breach: "
             f"{facts['detection_bound_s']:.0f} s</p>",
             "<h2>Journal (virtual time since the drill's start · calendar time, UTC)</h2>",
             table(("t", "event", "detail"), journal_rows(records, start), numeric=(0,))]
    return page(f"Drill report: {doc['scenario']}", body)


def write_run_html(result: Any, doc: dict[str, Any], out: Path) -> Path:
    """Draw the run's timeline figures into ``out`` and write ``out/report.html`` beside them."""
    from sim.results import figures

    events = _events(result.journal.records, figures.EVENT_KINDS)
    rule, s = result.scenario.monitoring.alert, result.scenario
    threshold = rule.threshold if rule.aggregate.startswith("percentage(sessions_errored") \
        and rule.threshold_type == "above" else None
    pngs, files = {}, {}
    for name, zoom in (("incident", True), ("timeline", False)):
        if zoom and "fault_started" not in events:
            continue
        fig = figures.timeline(result.stats.series, events, s.tick, rule.time_window, threshold,
                               zoom=zoom)
        pngs[name] = figures.save(fig, out, name)["png"]
        files[name] = [f"{name}.png"]
    path = out / "report.html"
    path.write_text(run_page(doc, result.journal.records, pngs, files, s.description,
                             s.start), encoding="utf-8")
    return path


def _events(records: Iterable[Any], kinds: set[str]) -> dict[str, float]:
    """First time of each marked kind (of a critical alert, for ``alert``) and of phases;
    ``detected`` is the first alert or report after the fault, as the metrics count it."""
    events: dict[str, float] = {}
    for r in records:
        if r.kind == "alert" and r.data.get("action") != "critical":
            continue
        if r.kind in kinds or r.kind.startswith("phase"):
            events.setdefault(r.kind, r.t)
    onset = events.get("fault_started")
    found = [t for k in ("alert", "report") if (t := events.get(k)) is not None
             and onset is not None and t >= onset]
    if found:
        events["detected"] = min(found)
    return events


# ---- a sweep -----------------------------------------------------------------------------


def sweep_page(doc: dict[str, Any], figures: dict[str, bytes], files: Mapping[str, Sequence[str]],
               execution: str = "") -> str:
    """``report.html`` of a sweep: aggregates, analytic cross-checks, CDFs, parameters."""
    body = [f"<h1>Sweep report: {_e(doc['scenario'])}</h1>",
            f"<p>{doc['total_runs']:,} runs · seeds {doc['seeds']['first']}–{doc['seeds']['last']}"
            f" per point · {len(doc['points'])} grid point(s) · all targets met in "
            f"{doc['overall']['all_targets_met']:,} runs"
            + (f" · {_e(execution)}" if execution else "") + "</p>",
            f"<p class=\"muted\">Probability of meeting a target: share of runs, with a "
            f"{_e(doc['ci_method'])}. A run where a metric never happened (an alert that "
            f"never fired) counts as missing its target and as ∞ in the quantiles.</p>"]
    body += [f'<div class="disagree">✗ Cross-check disagrees: {_e(d)}</div>'
             for d in doc.get("disagreements", [])]
    body += [f'<div class="warn">⚠ {_e(w)}</div>' for w in doc["warnings"]]
    body += ["<h2>All runs</h2>", metrics_table(doc["overall"]["metrics"], doc["targets"])]
    body += _estimates(doc)
    if "cdf" in figures:
        body.append(figure("cdf", figures["cdf"], "Empirical CDF of each metric per grid point; "
                           "the dashed red line is the target.", files.get("cdf", ())))
    body += _parameters(doc, figures, files)
    body += ["<h2>Analytic cross-checks</h2>", _analytic(doc)]
    return page(f"Sweep report: {doc['scenario']}", body)


def metrics_table(metrics: dict[str, Any], targets: dict[str, Any]) -> str:
    rows = []
    for name, agg in metrics.items():
        if not agg["runs"]:
            continue
        rows.append((LABELS[name][0], *(_q(name, agg[q]) for q in ("p50", "p90", "p95", "max")),
                     fmt_target(name, targets[name]), _rate(agg)))
    return table(("Metric", "p50", "p90", "p95", "max", "Target", "P(meets target) [95 % CI]"),
                 rows, numeric=(1, 2, 3, 4, 6))


def _parameters(doc: dict[str, Any], figures: dict[str, bytes],
                files: Mapping[str, Sequence[str]]) -> list[str]:
    out = []
    for key, entries in doc["by_parameter"].items():
        out.append(f"<h2>By {_e(key)}</h2>")
        for entry in entries:
            out.append(f"<h3>{_e(key)} = {_e(entry['value'])} "
                       f"<span class=\"muted\">({entry['runs']} runs)</span></h3>")
            out.append(metrics_table(entry["metrics"], doc["targets"]))
        name = f"vary-{key}"
        if name in figures:
            out.append(figure(name, figures[name], f"Quantiles and P(meets target) against "
                              f"{key}", files.get(name, ())))
    return out


def _estimates(doc: dict[str, Any]) -> list[str]:
    """The runbook's time-to-rollback estimate per grid point, with P(within it)."""
    rows = []
    for p in doc["points"]:
        e = p.get("runbook_estimate")
        if not e or not e["runs"]:
            continue
        rows.append((", ".join(f"{k}={v}" for k, v in p["values"].items()) or "—", e["text"],
                     f"{e['low_s']:g} – {e['high_s']:g}", e["faster"], e["within"],
                     e["slower"], f"{e['p_at_most_high']:.3f} [{e['ci_low']:.3f}, "
                     f"{e['ci_high']:.3f}] ({e['faster'] + e['within']}/{e['runs']})"))
    if not rows:
        return []
    return ["<h2>Time to rollback against the runbook's estimate</h2>",
            '<p class="muted">P(within estimate): the share of runs that rolled back in at '
            "most the estimate's upper end (faster counts as within; a rollback that never "
            f"completed as slower), with a {_e(doc['ci_method'])}.</p>",
            table(("Point", "Runbook estimate", "Estimate (s)", "Faster", "Within", "Slower",
                   "P(within estimate) [95 % CI]"), rows, numeric=(3, 4, 5, 6))]


def _analytic(doc: dict[str, Any]) -> str:
    labels = {p["index"]: ", ".join(f"{k}={v}" for k, v in p["values"].items()) or "—"
              for p in doc["points"]}
    rows = [(labels[a["point"]], LABELS[a["metric"]][0],
             _range(a["low"], a["high"], "never" if a["warning"] else "no closed form")
             + (f" (p{100 * a['tail']:g}–p{100 * (1 - a['tail']):g})" if a.get("tail") else ""),
             _range(a["simulated_min"], a["simulated_max"], "never"), _verdict(a),
             a.get("cross_check_detail", ""), a["how"])
            for a in doc["analytic"]]
    return ('<p class="muted">Each end of a range allows a share of runs past it (none for '
            "an end the mechanics fix, 1 % for a p99 end of drawn delays); a check "
            "<b>disagrees</b> when more runs pass an end than that share makes plausible "
            f"(one-sided binomial test, P &lt; {ALPHA:g}).</p>"
            + table(("Point", "Metric", "Analytic range (s)", "Simulated range (s)", "Check",
                     "Runs outside", "From"), rows))


def _verdict(a: dict[str, Any]) -> Raw:
    text = a["cross_check"]
    css = {"agrees": "pass", "DISAGREES": "fail"}.get(text, "muted")
    return Raw(f'<span class="{css}">{_e(text)}</span>')


def _range(low: Any, high: Any, neither: str) -> str:
    def show(x: Any) -> str:
        return "∞" if x is None else f"{x:.1f}"
    return neither if low is None and high is None else f"{show(low)} – {show(high)}"


def _q(name: str, value: Any) -> str:
    return "∞ (never)" if value is None else fmt_value(name, value).split(" (")[0]


def _rate(agg: dict[str, Any]) -> str:
    if agg["pass_rate"] is None:
        return "—"
    return (f"{agg['pass_rate']:.3f} [{agg['ci_low']:.3f}, {agg['ci_high']:.3f}] "
            f"({agg['passed']}/{agg['runs']})")
