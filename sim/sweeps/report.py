"""What a sweep writes and prints: ``sweep.json``, ``runs.csv``, figures, ``report.html``,
and the one-screen terminal summary; for an interrupted sweep, its finished runs in a
``sweep.json`` marked ``"complete": false``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sim.outdir import staged_dir
from sim.results.markdown import LABELS, fmt_target, fmt_value
from sim.results.metrics import METRICS
from sim.sweeps.sweep import SCHEMA_VERSION, Runs, SweepPlan, run_table
from sim.sweeps.table import Row, RunTable

SHOWN = ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s", "affected_users_pct",
         "data_loss", "repeat_incidents")


def write_sweep(plan: SweepPlan, doc: dict[str, Any], runs: Runs, out: Path,
                html: bool = True, execution: str = "") -> None:
    """Write the sweep's outputs into ``out`` (created), all or nothing: they are written
    beside it and moved into place once complete (``sim.outdir.staged_dir``), so a folder
    with a ``sweep.json`` is complete. ``runs``: the sweep's RunTable, or its rows.
    Raises OutputError."""
    table = run_table(plan, runs)
    with staged_dir(out, "sweep.json") as stage:
        (stage / "sweep.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
        _write_runs(plan, table.rows(), stage / "runs.csv")
        if html:
            _write_html(plan, doc, table, stage, execution)


def write_partial_sweep(plan: SweepPlan, runs: Runs, out: Path) -> dict[str, Any]:
    """An interrupted sweep's finished runs (its RunTable, or rows in any order):
    ``sweep.json`` marked ``"complete": false`` with one row per run in (point, seed)
    order (no aggregates: the runs left out would bias them) and ``runs.csv``; returns
    the document. Raises OutputError."""
    ordered = list(run_table(plan, runs).rows())
    doc = {"schema_version": SCHEMA_VERSION, "kind": "sweep", "complete": False,
           "scenario": plan.name, "total_runs": plan.total, "finished_runs": len(ordered),
           "vary": {a.key: [_label(v) for v in a.values] for a in plan.axes},
           "runs": ordered}
    with staged_dir(out, "sweep.json") as stage:
        (stage / "sweep.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
        _write_runs(plan, ordered, stage / "runs.csv")
    return doc


def _write_runs(plan: SweepPlan, rows: Iterable[Row], path: Path) -> None:
    keys = [a.key for a in plan.axes]
    with path.open("w", encoding="utf-8") as f:
        f.write(",".join(["point", *keys, "seed", *SHOWN, *(f"{m}_status" for m in SHOWN),
                          "passed"]) + "\n")
        for r in rows:
            values = plan.points[r["point"]].values
            cells = [str(r["point"]), *(_csv(json.dumps(v) if not isinstance(v, str) else v)
                                        for v in values), str(r["seed"])]
            cells += ["" if r["metrics"][m] is None else f"{r['metrics'][m]}" for m in SHOWN]
            cells += [r["status"][m] for m in SHOWN] + [str(r["passed"]).lower()]
            f.write(",".join(cells) + "\n")


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _write_html(plan: SweepPlan, doc: dict[str, Any], table: RunTable, out: Path,
                execution: str) -> None:
    from sim.results import figures
    from sim.results.html import sweep_page

    pngs: dict[str, bytes] = {}
    files: dict[str, list[str]] = {}

    def keep(name: str, fig: Any) -> None:
        pngs[name] = figures.save(fig, out, name, ("png", "svg"))["png"]
        files[name] = [f"{name}.png", f"{name}.svg"]

    keep("cdf", figures.cdfs(_values(plan, table), doc["targets"], doc["overall"]["metrics"]))
    for key, entries in doc["by_parameter"].items():
        keep(f"vary-{key}", figures.versus(key, entries, doc["targets"]))
    (out / "report.html").write_text(sweep_page(doc, pngs, files, execution), encoding="utf-8")


def _values(plan: SweepPlan, table: RunTable) -> dict[str, dict[str, list[float]]]:
    """Per metric, per grid point label (points with a judged run), each judged run's
    value (inf: never happened)."""
    out: dict[str, dict[str, list[float]]] = {m: {} for m in SHOWN}
    for p in plan.points:
        label = ", ".join(f"{a.key}={_label(v)}" for a, v in
                          zip(plan.axes, p.values, strict=True))
        for m in SHOWN:
            values = table.judged(m, [p.index])[0]
            if len(values):
                out[m][label] = values.tolist()
    return out


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# ---- terminal ----------------------------------------------------------------------------


def render_terminal(doc: dict[str, Any], execution: str = "", out_dir: str | None = None) -> str:
    """The one-screen summary ``drill sweep`` prints."""
    lines = [f"sweep {doc['scenario']}  {doc['total_runs']:,} runs  "
             f"({len(doc['points'])} point(s) × seeds {doc['seeds']['first']}–"
             f"{doc['seeds']['last']})" + (f"  {execution}" if execution else ""), ""]
    lines += metric_lines(doc["overall"]["metrics"], doc["targets"])
    if doc["overall"]["false_positives"]:
        lines.append(f"  false positives (a critical alert before the fault): "
                     f"{doc['overall']['false_positives']} of {doc['total_runs']} runs")
    for key, entries in doc["by_parameter"].items():
        for entry in entries:
            lines += ["", f"  {key} = {entry['value']}  ({entry['runs']} runs)"]
            lines += metric_lines(entry["metrics"], doc["targets"], indent="    ")
    lines += [line for p in doc["points"] if (line := estimate_line(p, len(doc["points"]) > 1))]
    lines += ["", f"  P(meet): share of runs meeting the target, [{doc['ci_method']}]"]
    labels = {p["index"]: " [" + ", ".join(f"{k}={v}" for k, v in p["values"].items()) + "]"
              if p["values"] else "" for p in doc["points"]}
    lines += [f"  analytic{labels[a['point']]}: {LABELS[a['metric']][0].lower()} "
              f"{_analytic_range(a)} — {a['cross_check']}"
              + (f" ({a['cross_check_detail']})" if a["cross_check"] == "agrees" else "")
              for a in doc["analytic"]]
    lines += [f"  ✗ cross-check DISAGREES: {d}" for d in doc.get("disagreements", [])]
    lines += [f"  ⚠ {w}" for w in doc["warnings"]]
    if out_dir:
        lines.append(f"  written to {out_dir}/ (report.html, sweep.json, runs.csv)")
    return "\n".join(lines)


def point_line(plan: SweepPlan, point: Any, table: RunTable, seconds: float) -> str:
    """One line for a finished grid point (the scenario, for a sweep without ``--vary``),
    read off the sweep's RunTable: what ``drill check``/``drill sweep`` print as it
    finishes when not on a terminal."""
    where = (" [" + ", ".join(f"{a.key}={_label(v)}" for a, v in
                              zip(plan.axes, point.values, strict=True)) + "]"
             if point.values else "")
    met = []
    for metric in METRICS:
        judged, hits, _ = table.judged(metric, [point.index])
        if len(judged):
            met.append(f"{LABELS[metric][0].lower()} {hits}/{len(judged)}")
    runs, passed, _ = table.count([point.index])
    return (f"{plan.name}{where}: {runs} runs, all targets met in {passed}"
            f" ({100 * passed / runs:.0f} %); met: {', '.join(met) or 'nothing measured'}"
            f"  [{seconds:.1f} s]")


def estimate_line(point: dict[str, Any], label: bool = False) -> str:
    """The runbook's estimate beside a point's time to rollback (empty without runs)."""
    e = point.get("runbook_estimate")
    if not e or not e["runs"]:
        return ""
    where = (" [" + ", ".join(f"{k}={v}" for k, v in point["values"].items()) + "]"
             if label and point["values"] else "")
    return (f"  runbook estimate{where}: {e['text']} ({e['low_s']:g}–{e['high_s']:g} s): "
            f"time to rollback within it in {e['within']} of {e['runs']} runs, faster in "
            f"{e['faster']}, slower in {e['slower']}; P(≤ {e['high_s']:g} s) = "
            f"{e['p_at_most_high']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]")


def metric_lines(metrics: dict[str, Any], targets: dict[str, Any], indent: str = "  "
                 ) -> list[str]:
    header = (f"{'':<18} {'p50':>9} {'p90':>9} {'p95':>9} {'max':>9}   {'target':<9} "
              "P(meet) [95 % CI]")
    lines = [indent + header]
    for name in SHOWN:
        agg = metrics[name]
        if not agg["runs"]:
            continue
        cells = [_short(name, agg[q]) for q in ("p50", "p90", "p95", "max")]
        rate = f"{agg['pass_rate']:.3f} [{agg['ci_low']:.3f}, {agg['ci_high']:.3f}]"
        lines.append(f"{indent}{LABELS[name][0]:<18} " + " ".join(f"{c:>9}" for c in cells)
                     + f"   {fmt_target(name, targets[name]).split(' (')[0]:<9} {rate}")
    return lines


def _short(name: str, value: Any) -> str:
    return "never" if value is None else fmt_value(name, value).split(" (")[0]


def _analytic_range(a: dict[str, Any]) -> str:
    if a["low"] is None and a["high"] is None:
        return "never" if a["warning"] else "(no closed form)"
    low = "0" if a["low"] is None else f"{a['low']:g}"
    high = "∞" if a["high"] is None else f"{a['high']:g}"
    at = f" (p{100 * a['tail']:g}–p{100 * (1 - a['tail']):g})" if a.get("tail") else ""
    return (f"{low}–{high} s{at}, simulated {_sim(a['simulated_min'])}–"
            f"{_sim(a['simulated_max'])} s")


def _sim(value: Any) -> str:
    return "∞" if value is None else f"{value:g}"
