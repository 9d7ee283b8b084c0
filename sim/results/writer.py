"""What a run writes: ``summary.json`` (the stable schema CI reads), ``journal.jsonl``,
``series.csv``, ``report.md`` and ``scenario.json`` (the validated scenario, overrides
applied, which ``drill report`` re-runs), all or nothing (a folder with a ``summary.json`` is
complete; see ``write_run``).

``summary.json``'s ``false_positive`` is null, or the critical alert that fired before
any fault and its cost (``sim.results.metrics``: alert_s, title, fault_onset_s,
decision_s, action, rollback_path, rollback_completed_s, new_page_off_s); its ``impact``
is null (no fault) or the incident's cost to users (``sim.results.impact``); its
``inputs``, written only for a calibrated scenario, says which timing inputs were
calibrated (source, n, date range, fit) and which are stated or defaults
(``sim.results.inputs``); its ``flag_module``, written only when the scenario sets
``flag.module``, says where the app's own flag module and the Python port disagreed
(``sim.world.flag_eval``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sim.outdir import staged_dir
from sim.results.run import RunResult
from sim.scenario.model import Scenario
from sim.scenario.paths import path_spec
from sim.world.flag_eval import module_sha256

SCHEMA_VERSION = 1
TIMELINE = (("fault_onset_s", "fault_started"), ("alert_s", "alert"),
            ("decision_s", "decision"), ("rollback_started_s", "rollback_started"),
            ("rollback_completed_s", "rollback_completed"), ("recovered_s", "recovered"))


def summary(result: RunResult) -> dict[str, Any]:
    """The summary document; the same run gives the same dict, key for key."""
    m = result.metrics.measures
    estimate = path_spec(result.scenario.responder.path).estimate
    stats = result.stats
    return {
        "schema_version": SCHEMA_VERSION,
        "scenario": result.scenario.name,
        "scenario_digest": scenario_digest(result),
        "seed": result.seed,
        "path": result.scenario.responder.path,
        "responder": result.scenario.responder.mode,
        "passed": result.metrics.passed,
        "metrics": {name: x.value for name, x in m.items()},
        "targets": {name: x.target for name, x in m.items()},
        "status": {name: x.status for name, x in m.items()},
        "reasons": {name: x.reason for name, x in m.items() if x.reason},
        "runbook_estimate_s": {"low": estimate.low_s, "high": estimate.high_s,
                               "text": estimate.text},
        "timeline": _timeline(result),
        "false_positive": result.metrics.false_positive,
        "impact": impact.as_dict() if (impact := result.metrics.impact) is not None else None,
        "facts": {**result.facts, "users": result.scenario.population.users,
                  "faulty_pageviews": stats.faulty_pageviews,
                  "users_served_faulty": int(stats.served_faulty.sum())
                  if stats.served_faulty is not None else 0,
                  "users_active_in_incident": int(stats.active_in_incident.sum())
                  if stats.active_in_incident is not None else 0,
                  "users_flipped": int(stats.flipped.sum()) if stats.flipped is not None else 0,
                  "users_seen": int((stats.last_variant >= 0).sum())
                  if stats.last_variant is not None else 0},
        **getattr(result, "sections", {}),
        **_inputs(result.scenario),
        **({"flag_module": result.flag_module} if result.flag_module is not None else {}),
    }


def _inputs(scenario: Scenario) -> dict[str, Any]:
    """``inputs`` for a calibrated scenario (``sim.results.inputs``); else nothing."""
    from sim.results.inputs import inputs_section

    section = inputs_section(scenario)
    return {"inputs": section} if section is not None else {}


def scenario_digest(result: RunResult) -> str:
    return digest_of(result.scenario)


def digest_of(scenario: Scenario) -> str:
    """16 hex digits identifying what a run simulates.

    The ``gate`` section is CI policy, not part of the drill, so it is left out: tuning a
    tolerance does not make runs look like another scenario's. So is ``calibration``:
    it says where inputs came from, the inputs themselves are in the digest.
    """
    dump = scenario_dump(scenario, exclude={"gate", "calibration"})
    module = dump["flag"].get("module")
    if module is not None:  # what the module says, not where this machine keeps it
        dump["flag"]["module"] = _content_digest(Path(module))
    canonical = json.dumps(dump, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def scenario_dump(scenario: Scenario, exclude: set[str] | None = None) -> dict[str, Any]:
    """``scenario.model_dump(mode="json")`` without ``flag.module``/``flag.export`` when
    unset: fields added later must not change the dump (and digest) of older scenarios."""
    dump = scenario.model_dump(mode="json", exclude=exclude)
    for key in ("module", "export"):
        if dump["flag"].get(key) is None:
            dump["flag"].pop(key, None)
    return dump


def _content_digest(path: Path) -> str:
    try:
        return f"{path.name} sha256:{module_sha256(path)}"
    except OSError:
        return str(path)


def _timeline(result: RunResult) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, kind in TIMELINE:
        record = result.journal.first(kind)
        out[key] = round(record.t, 3) if record else None
    return out


def write_run(result: RunResult, out: Path, html: bool = False) -> dict[str, Any]:
    """Write every output of ``result`` into ``out``; returns the summary.

    With ``html`` also ``report.html`` and its timeline figures (about 0.5 s more). The
    files are written beside ``out`` and moved into place once all are written
    (``sim.outdir.staged_dir``): an ``out`` with a ``summary.json`` is complete. Raises
    OutputError when they cannot be written.
    """
    doc = summary(result)
    with staged_dir(out, "summary.json") as stage:
        _write_files(result, doc, stage, html)
    return doc


def _write_files(result: RunResult, doc: dict[str, Any], out: Path, html: bool) -> None:
    (out / "summary.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    # the validated scenario, --set overrides applied: what `drill report` re-runs
    (out / "scenario.json").write_text(json.dumps(scenario_dump(result.scenario),
                                                  indent=2, sort_keys=True) + "\n")
    result.journal.write(out / "journal.jsonl")
    _write_series(result, out / "series.csv")
    from sim.results.markdown import render_markdown

    (out / "report.md").write_text(render_markdown(result, doc))
    if html:
        from sim.results.html import write_run_html

        write_run_html(result, doc, out)


def _write_series(result: RunResult, path: Path) -> None:
    series = result.stats.series
    names = list(series)
    rows = len(series["t"])
    with path.open("w") as f:
        f.write(",".join(names) + "\n")
        for i in range(rows):
            f.write(",".join(_fmt(series[n][i]) for n in names) + "\n")


def _fmt(value: float) -> str:
    return "" if value != value else f"{value:.6g}"
