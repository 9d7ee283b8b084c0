"""The CI gate: judge a scenario's sweep against its ``gate`` and a baseline.

A metric fails when its target is met in fewer runs than the scenario's
``gate.min_pass_rate`` requires, or when its p95 is worse than the baseline's by more than
``gate.p95_tolerance``. ``baseline_entry`` is what ``drill baseline`` stores per scenario;
``junit_xml`` and ``markdown`` are the reports a CI job keeps (one JUnit testcase per
scenario × metric; a Markdown table fit for a job summary).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import BadInput
from sim.results.markdown import LABELS, fmt_value
from sim.results.metrics import METRICS
from sim.scenario.model import Scenario
from sim.sweeps.stats import from_json

BASELINE_SCHEMA = 1
KEPT = ("p50", "p90", "p95", "max", "pass_rate", "runs")


@dataclass
class Verdict:
    """One scenario × metric: what was measured, what failed, what is worth knowing."""

    scenario: str
    metric: str
    aggregate: dict[str, Any]
    required: float | None
    baseline_p95: float | None
    allowed_p95: float | None
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class ScenarioCheck:
    """Every verdict of one scenario, with its sweep's analytic warnings and the analytic
    cross-checks the runs disagree with (shown, never gated: they say the model and its
    closed form part ways, not that the drill missed a target)."""

    scenario: str
    runs: int
    verdicts: list[Verdict]
    warnings: list[str]
    notes: list[str]
    seconds: float = 0.0
    disagreements: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def judge(scenario: Scenario, doc: dict[str, Any], baseline: dict[str, Any] | None
          ) -> ScenarioCheck:
    """Judge the sweep ``doc`` of ``scenario`` against its gate and ``baseline`` (a
    ``drill baseline`` document, or None to check pass rates only)."""
    entry = (baseline or {}).get("scenarios", {}).get(scenario.name)
    notes = _notes(scenario, doc, baseline, entry)
    verdicts = [_verdict(scenario, m, doc["overall"]["metrics"][m], entry) for m in METRICS]
    return ScenarioCheck(scenario.name, doc["total_runs"], verdicts, doc["warnings"], notes,
                         disagreements=list(doc.get("disagreements", [])))


def _verdict(scenario: Scenario, metric: str, agg: dict[str, Any],
             entry: dict[str, Any] | None) -> Verdict:
    required = scenario.gate.required().get(metric)
    base = ((entry or {}).get("metrics", {}).get(metric) or {}).get("p95")
    base_known = entry is not None and metric in entry.get("metrics", {}) and agg["runs"] > 0
    allowed = from_json(base) * (1 + scenario.gate.p95_tolerance) if base_known else None
    v = Verdict(scenario.name, metric, agg, required, base, allowed)
    if agg["runs"] == 0:  # a drill with no fault, no write ledger: nothing to hold
        v.skipped = "not measured in this scenario" + (
            f" (the gate's {required:.0%} does not apply)" if required is not None else "")
        return v
    if required is not None and agg["passed"] < math.ceil(required * agg["runs"] - 1e-9):
        v.failures.append(f"{_label(metric)} met its target in {agg['passed']}/{agg['runs']} runs "
                          f"({agg['pass_rate']:.3f}, 95 % CI {agg['ci_low']:.3f}–"
                          f"{agg['ci_high']:.3f}); the scenario requires {required:.3f}")
    p95 = from_json(agg["p95"])
    if allowed is not None and p95 > allowed + 1e-9:
        worse = "∞" if math.isinf(p95) or not base else f"{100 * (p95 / base - 1):.1f} %"
        v.failures.append(f"{_label(metric)} p95 {_fmt(metric, p95)} is worse than the "
                          f"baseline's {_fmt(metric, from_json(base))} by {worse} (tolerance "
                          f"{scenario.gate.p95_tolerance:.0%})")
    return v


def _notes(scenario: Scenario, doc: dict[str, Any], baseline: dict[str, Any] | None,
           entry: dict[str, Any] | None) -> list[str]:
    if baseline is None:
        return []
    if entry is None:
        return ["no baseline for this scenario (run `drill baseline`): pass rates only"]
    notes = []
    if entry.get("runs") != doc["total_runs"]:
        notes.append(f"baseline from {entry.get('runs')} runs, this check {doc['total_runs']}")
    from sim.results.writer import digest_of

    if entry.get("scenario_digest") != digest_of(scenario):
        notes.append("the scenario changed since the baseline (digest differs)")
    return notes


def _label(metric: str) -> str:
    return LABELS[metric][0]


def _fmt(metric: str, value: float) -> str:
    return "∞ (never)" if math.isinf(value) else fmt_value(metric, value).split(" (")[0]


# ---- baseline ----------------------------------------------------------------------------


def baseline_entry(scenario: Scenario, doc: dict[str, Any]) -> dict[str, Any]:
    """What a baseline keeps of one scenario's sweep."""
    from sim.results.writer import digest_of

    return {"scenario_digest": digest_of(scenario), "runs": doc["total_runs"],
            "seeds": doc["seeds"],
            "metrics": {m: {k: agg[k] for k in KEPT} for m, agg in
                        doc["overall"]["metrics"].items() if agg["runs"]}}


def read_baseline(path: Path) -> dict[str, Any]:
    """A baseline document; raises BadInput when it is missing or malformed."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such baseline (write one with `drill baseline`)") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a readable JSON baseline ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != "drill-baseline" \
            or not isinstance(doc.get("scenarios"), dict):
        raise BadInput(f"{path}: not a drill baseline (write one with `drill baseline`)")
    return doc


def merge_baseline(path: Path, entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The baseline at ``path`` (if any) with ``entries`` replacing their scenarios."""
    old = read_baseline(path)["scenarios"] if path.exists() else {}
    return {"schema_version": BASELINE_SCHEMA, "kind": "drill-baseline",
            "scenarios": dict(sorted({**old, **entries}.items()))}


# ---- reports -----------------------------------------------------------------------------


def junit_xml(checks: list[ScenarioCheck]) -> str:
    """JUnit XML: a testsuite per scenario, a testcase per metric, failures with messages."""
    root = ET.Element("testsuites", name="drill check", tests=str(_count(checks, "tests")),
                      failures=str(_count(checks, "failures")),
                      skipped=str(_count(checks, "skipped")))
    for c in checks:
        suite = ET.SubElement(root, "testsuite", name=c.scenario, tests=str(len(c.verdicts)),
                              failures=str(sum(not v.passed for v in c.verdicts)),
                              skipped=str(sum(v.skipped is not None for v in c.verdicts)),
                              time=f"{c.seconds:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="runs", value=str(c.runs))
        for v in c.verdicts:
            case = ET.SubElement(suite, "testcase", classname=f"drill.{c.scenario}",
                                 name=v.metric, time="0")
            for message in v.failures:
                ET.SubElement(case, "failure", message=message, type="GateFailure").text = message
            if v.skipped:
                ET.SubElement(case, "skipped", message=v.skipped)
        if c.warnings or c.notes or c.disagreements:
            ET.SubElement(suite, "system-out").text = "\n".join(
                [*(f"cross-check disagrees: {d}" for d in c.disagreements), *c.warnings,
                 *c.notes])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def _count(checks: list[ScenarioCheck], what: str) -> int:
    verdicts = [v for c in checks for v in c.verdicts]
    if what == "tests":
        return len(verdicts)
    if what == "failures":
        return sum(not v.passed for v in verdicts)
    return sum(v.skipped is not None for v in verdicts)


def markdown(checks: list[ScenarioCheck], baseline: str | None = None) -> str:
    """A Markdown summary for a CI job page: verdict, a table per scenario, failures."""
    ok = all(c.passed for c in checks)
    against = f"baseline `{baseline}`" if baseline else "no baseline (pass rates only)"
    lines = [f"## drill check: {'✅ passed' if ok else '❌ failed'}", "",
             f"{len(checks)} scenario(s), {against}. P(meet) is the share of runs meeting "
             "the target with a 95 % Wilson score interval; a run where a metric never "
             "happened counts as ∞.", ""]
    for c in checks:
        lines += [f"### {'✅' if c.passed else '❌'} {c.scenario} ({c.runs} runs)", "",
                  "| metric | p50 | p95 | baseline p95 (allowed) | P(meet) [95 % CI] | required "
                  "| verdict |", "|---|---:|---:|---:|---:|---:|---|"]
        lines += [_md_row(v) for v in c.verdicts if not v.skipped]
        lines += [""] + [f"- ❌ {m}" for v in c.verdicts for m in v.failures]
        lines += [f"- ✗ cross-check disagrees: {d}" for d in c.disagreements]
        lines += [f"- ⚠️ {w}" for w in c.warnings] + [f"- {n}" for n in c.notes]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_row(v: Verdict) -> str:
    a = v.aggregate
    p50, p95 = (_fmt(v.metric, from_json(a[q])) for q in ("p50", "p95"))
    base = "—" if v.allowed_p95 is None else \
        f"{_fmt(v.metric, from_json(v.baseline_p95))} ({_fmt(v.metric, v.allowed_p95)})"
    rate = "—" if a["pass_rate"] is None else \
        f"{a['pass_rate']:.3f} [{a['ci_low']:.3f}, {a['ci_high']:.3f}]"
    required = "—" if v.required is None else f"{v.required:.2f}"
    return (f"| {_label(v.metric)} | {p50} | {p95} | {base} | {rate} | {required} | "
            f"{'pass' if v.passed else '**FAIL**'} |")


def check_json(c: Any) -> dict[str, Any]:
    """One scenario's verdict as ``drill check --json`` prints it."""
    return {"scenario": c.scenario, "runs": c.runs, "passed": c.passed,
            "warnings": c.warnings, "notes": c.notes, "disagreements": c.disagreements,
            "metrics": {v.metric: {"passed": v.passed, "failures": v.failures,
                                   "skipped": v.skipped, "p95": v.aggregate["p95"],
                                   "pass_rate": v.aggregate["pass_rate"],
                                   "required": v.required, "baseline_p95": v.baseline_p95}
                        for v in c.verdicts}}


def check_screen(checks: list[Any], junit: Path, summary: Path, baseline: str | None) -> str:
    """The verdicts as ``drill check`` prints them."""
    lines = [] if baseline else ["no baseline given: pass rates only", ""]
    for c in checks:
        lines.append(f"{'PASS' if c.passed else 'FAIL'}  {c.scenario}  ({c.runs} runs)")
        lines += [f"      ✗ {m}" for v in c.verdicts for m in v.failures]
        lines += [f"      ✗ cross-check disagrees: {d}" for d in c.disagreements]
        lines += [f"      ⚠ {w}" for w in c.warnings] + [f"      · {n}" for n in c.notes]
    ok = all(c.passed for c in checks)
    lines += ["", f"drill check: {'passed' if ok else 'FAILED'}  "
                  f"(JUnit: {junit}, summary: {summary})"]
    return "\n".join(lines)
