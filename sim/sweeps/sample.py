"""One run is one sample: ``drill run --runs N`` puts its seed's verdict beside N seeds'.

The N seeds are the scenario's sweep without a grid (seed, seed + 1, …, the run's own
seed first), run as ``drill sweep`` runs them. A PASS is **flagged** when the N seeds
fail more often than they pass (every target met in under ``OFTEN`` of them), and when a
target it met is met by fewer of the N seeds than the scenario's ``gate.min_pass_rate``
asks — the rule ``drill check`` gates on — so a lucky seed does not read as a passing
drill.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.results.markdown import LABELS
from sim.scenario.model import Scenario
from sim.sweeps.report import metric_lines
from sim.sweeps.sweep import plan_sweep

OFTEN = 0.5  # a PASS whose seeds meet every target in fewer runs than this fails often
Sweeper = Callable[[list[Any], bool], list[tuple[dict[str, Any], Any, str, float]]]


def over_seeds(scenario: Scenario, doc: dict[str, Any], runs: int, seed: int | None,
               sweep: Sweeper, echo: Callable[[str], None] | None) -> dict[str, Any]:
    """Run ``runs`` seeds of ``scenario`` from ``seed`` (default its own); print, with
    ``echo``, each target's P(meet) and any flag; returns ``{"runs", "seeds",
    "all_targets_met", "metrics", "flags"}`` (``--json`` adds it as ``over_seeds``)."""
    plan = plan_sweep(scenario, runs, [], seed)
    ((sweep_doc, _, execution, _),) = sweep([plan], echo is None)
    overall = sweep_doc["overall"]
    flags = pass_flags(doc, overall, sweep_doc["gate"]["min_pass_rate"])
    if echo is not None:
        echo(f"  over {runs} seeds ({sweep_doc['seeds']['first']}–{sweep_doc['seeds']['last']}"
             f", {execution}): all targets met in {overall['all_targets_met']} of {runs}")
        for line in metric_lines(overall["metrics"], sweep_doc["targets"]):
            echo(line)
        for flag in flags:
            echo(f"  ⚠ {flag}")
        echo("")
    return {"runs": runs, "seeds": sweep_doc["seeds"],
            "all_targets_met": overall["all_targets_met"], "metrics": overall["metrics"],
            "flags": flags}


def pass_flags(doc: dict[str, Any], overall: dict[str, Any], required: dict[str, float]
               ) -> list[str]:
    """One line if this run PASSED yet the seeds meet every target in under ``OFTEN`` of
    runs, and one per target it met that fewer seeds meet than the gate requires (nothing
    for a run that failed: its FAIL already says so)."""
    if not doc["passed"]:
        return []
    out = []
    met, runs = overall["all_targets_met"], overall["runs"]
    if runs and met / runs < OFTEN:
        out.append(f"seed {doc['seed']} PASSED, but every target is met in only {met} of "
                   f"{runs} seeds ({met / runs:.0%}): this PASS is one lucky sample")
    for metric, need in required.items():
        agg = overall["metrics"].get(metric)
        if doc["status"].get(metric) != "pass" or not agg or not agg["runs"]:
            continue
        if agg["pass_rate"] is not None and agg["pass_rate"] < need:
            out.append(f"seed {doc['seed']} met the {LABELS[metric][0].lower()} target, but "
                       f"{agg['passed']} of {agg['runs']} seeds do ({agg['pass_rate']:.0%}; "
                       f"the gate asks {need:.0%})")
    return out
