"""A sweep's RunTable: the columns give exactly what the rows gave.

``golden_sweep/`` holds the documents the list-of-rows implementation (before the
RunTable) wrote for the rows ``synthetic_rows`` makes — a 2 × 2 grid whose metrics are
values, ints, None (never) and not measured, with false positives — complete, and
interrupted after some of the runs. Regenerate them only on purpose:
``python tests/sim/test_sweep_table.py DIR`` writes them with whatever ``sim`` imports.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.results.metrics import METRICS
from sim.scenario.loader import load_default
from sim.sweeps.stats import aggregate, quantile
from sim.sweeps.sweep import SweepPlan, parse_vary, plan_sweep, sweep_document

GOLDEN = Path(__file__).parent / "golden_sweep"
RUNS = 12
INTS = ("data_loss", "repeat_incidents")


def grid() -> SweepPlan:
    """Four points of the default drill; nothing runs."""
    axes = [parse_vary("responder.mode=human,automated"),
            parse_vary("monitoring.alert.threshold=6,50")]
    return plan_sweep(load_default(), RUNS, axes, base_seed=100)


def synthetic_rows(plan: SweepPlan) -> list[dict[str, Any]]:
    """One row per (point, seed) as ``run_chunk`` returns them, with ties, ints, None and
    not_measured in every metric, and false positives carrying their cost."""
    rng = random.Random(15)
    rows = []
    for point, seed in plan.tasks():
        metrics, status = {}, {}
        for m in METRICS:
            kind = rng.choice(("value", "value", "value", "tie", "never", "not_measured"))
            value: Any = {"value": round(rng.uniform(0, 900), 3), "tie": 120.0,
                          "never": None, "not_measured": None}[kind]
            if m in INTS and value is not None:
                value = int(value) % 4
            metrics[m] = value
            status[m] = ("not_measured" if kind == "not_measured"
                         else "fail" if value is None or rng.random() < 0.3 else "pass")
        cost = ({"alert_s": round(rng.uniform(0, 3600), 3), "title": "errors > 6",
                 "fault_onset_s": 3600.0, "decision_s": None, "action": None,
                 "rollback_path": None, "rollback_completed_s": None, "new_page_off_s": None}
                if rng.random() < 0.2 else None)
        rows.append({"point": point, "seed": seed, "metrics": metrics, "status": status,
                     "passed": all(s != "fail" for s in status.values()),
                     "false_positive": cost})
    return rows


def interrupted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs an interrupted sweep finished: every third one lost."""
    return [r for i, r in enumerate(rows) if i % 3]


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _table_fed_in_shuffled_chunks(plan: SweepPlan, rows: list[dict[str, Any]]) -> Any:
    """A RunTable fed as ``collect`` feeds it: chunks of one point, in any order."""
    from sim.sweeps.table import RunTable

    table = RunTable(len(plan.points), plan.runs, plan.base_seed)
    chunks = [rows[i:i + 5] for i in range(0, len(rows), 5)]
    chunks = [[r for r in c if r["point"] == p] for c in chunks for p in {r["point"] for r in c}]
    random.Random(3).shuffle(chunks)
    for chunk in chunks:
        if chunk:
            table.add(chunk[0]["point"], [{k: v for k, v in r.items() if k != "point"}
                                          for r in chunk[::-1]])
    return table


def test_the_table_gives_the_list_of_rows_document_byte_for_byte() -> None:
    """Rule: a sweep's aggregates from its RunTable, fed chunk by chunk out of order, are
    byte-identical to the list-of-rows implementation's (same quantiles, inf and None
    cases, rounding, order), on a grid of several points."""
    plan = grid()
    table = _table_fed_in_shuffled_chunks(plan, synthetic_rows(plan))
    expected = (GOLDEN / "sweep.json").read_text(encoding="utf-8")
    assert _dump(sweep_document(plan, table)) == expected


def test_rows_and_the_table_give_the_same_document() -> None:
    """Rule: ``sweep_document`` of the rows (in any order) equals that of their table."""
    plan = grid()
    rows = synthetic_rows(plan)
    table = _table_fed_in_shuffled_chunks(plan, rows)
    assert _dump(sweep_document(plan, rows[::-1])) == _dump(sweep_document(plan, table))


def test_an_interrupted_sweep_writes_the_same_partial_document(tmp_path: Path) -> None:
    """Rule: the finished runs of an interrupted sweep come back from the table exactly as
    the rows were (ints stay ints, None stays None, a false positive's cost whole), in
    (point, seed) order: the same ``sweep.json`` ("complete": false) and ``runs.csv``."""
    from sim.sweeps.report import write_partial_sweep

    plan = grid()
    finished = interrupted(synthetic_rows(plan))
    table = _table_fed_in_shuffled_chunks(plan, finished)
    assert len(table) == len(finished)
    write_partial_sweep(plan, table, tmp_path)
    for name in ("sweep.json", "runs.csv"):
        assert (tmp_path / name).read_text() == (GOLDEN / f"partial-{name}").read_text(), name


def test_each_metric_aggregates_as_the_rows_do() -> None:
    """Rule: per metric and point, the table's judged values summarise exactly as
    ``aggregate`` of the rows does."""
    from sim.sweeps.stats import summarise

    plan = grid()
    rows = synthetic_rows(plan)
    table = _table_fed_in_shuffled_chunks(plan, rows)
    for p in plan.points:
        mine = [r for r in rows if r["point"] == p.index]
        for m in METRICS:
            assert summarise(*table.judged(m, [p.index])) == aggregate(mine, m), (p.index, m)


def test_a_run_stored_twice_or_outside_the_sweep_is_refused() -> None:
    """Rule: the table holds each (point, seed) once; a duplicate or foreign seed raises."""
    plan = grid()
    row = {k: v for k, v in synthetic_rows(plan)[0].items() if k != "point"}
    table = _table_fed_in_shuffled_chunks(plan, [])
    table.add(0, [row])
    with pytest.raises(ValueError, match="already stored"):
        table.add(0, [row])
    with pytest.raises(ValueError, match="not a run of this sweep"):
        table.add(0, [{**row, "seed": plan.base_seed + RUNS}])


def test_quantiles_of_an_array_are_those_of_the_list() -> None:
    """Rule: ``quantile`` gives the same value for a list and its sorted array, inf
    included."""
    values = [3.5, 1.0, float("inf"), 2.25, 2.25, 7.0]
    for q in (50.0, 90.0, 95.0):
        assert quantile(values, q) == quantile(np.sort(values), q)
        assert quantile(values[:2], q) == quantile(np.asarray(values[:2]), q)


def write_goldens(out: Path) -> None:
    """The documents ``sim`` (as imported) writes for ``synthetic_rows``."""
    from sim.sweeps.report import write_partial_sweep

    plan = grid()
    rows = synthetic_rows(plan)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(_dump(sweep_document(plan, rows)), encoding="utf-8")
    write_partial_sweep(plan, interrupted(rows), out / "partial")
    for name in ("sweep.json", "runs.csv"):
        (out / "partial" / name).rename(out / f"partial-{name}")
    (out / "partial").rmdir()


if __name__ == "__main__":
    write_goldens(Path(sys.argv[1]))
