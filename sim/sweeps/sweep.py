"""Monte Carlo sweeps: one scenario over many seeds, optionally times a parameter grid.

``plan_sweep`` validates every grid point before anything runs (bad input is a
``BadInput``); ``collect`` runs the plan's (point, seed) tasks on an executor from
``sim.sweeps.executors``, storing each chunk of rows as it arrives into a columnar
``RunTable`` (``sim.sweeps.table``: a few dozen bytes a run, no row kept), and
``sweep_document`` aggregates it (``sim.sweeps.stats``), with the analytic cross-checks of
``sim.results.bounds`` beside, each tested against the runs (``sim.results.crosscheck``;
``disagreements`` lists the ones that fail). Run ``i`` of a point uses seed
``base_seed + i``, workers return only the small per-run rows, and every statistic reads
the runs in (point, seed) order: the same sweep gives the same document with 1 worker,
N workers or a Dask cluster.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from sim.errors import BadInput, Interrupted
from sim.results.bounds import bounds
from sim.results.crosscheck import check
from sim.results.metrics import METRICS
from sim.scenario.limits import MAX_SWEEP_RUNS
from sim.scenario.loader import validate_scenario
from sim.scenario.model import Scenario
from sim.scenario.paths import path_spec
from sim.sweeps.stats import CI_METHOD, from_json, summarise, wilson
from sim.sweeps.table import Row, RunTable

SCHEMA_VERSION = 1
ROW_KEYS = ("metrics", "status", "passed", "false_positive")


@dataclass(frozen=True)
class Axis:
    """One varied parameter: its key path and the values it takes (as YAML gives them)."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Point:
    """One grid point: its values per axis and the scenario they give."""

    index: int
    values: tuple[Any, ...]
    scenario: Scenario


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep runs: the grid points, the number of seeds, the first seed."""

    name: str
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    runs: int
    base_seed: int

    @property
    def total(self) -> int:
        return self.runs * len(self.points)

    def tasks(self) -> Iterator[tuple[int, int]]:
        """(point index, seed) for every run, in the order aggregation sorts them."""
        for point in self.points:
            for i in range(self.runs):
                yield point.index, self.base_seed + i


def parse_vary(item: str) -> Axis:
    """``key.path=v1,v2,...`` into an Axis; values are read as a YAML flow list."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip() or not raw.strip():
        raise BadInput(f"--vary {item}: write --vary key.path=value1,value2,...")
    try:
        values = yaml.safe_load(f"[{raw}]")
    except yaml.YAMLError:
        raise BadInput(f"--vary {item}: the values are not a comma-separated list") from None
    if len(values) != len(set(map(_label, values))):
        raise BadInput(f"--vary {item}: a value is repeated")
    return Axis(key.strip(), tuple(values))


def plan_sweep(base: Scenario, runs: int, axes: Sequence[Axis] = (),
               base_seed: int | None = None, source: str = "<sweep>") -> SweepPlan:
    """Validate every point of the grid ``axes`` spans over ``base``; raises BadInput."""
    if runs < 1:
        raise BadInput("--runs: must be at least 1")
    keys = [a.key for a in axes]
    if len(keys) != len(set(keys)):
        raise BadInput("--vary: a parameter is varied twice")
    total = runs * math.prod(len(a.values) for a in axes)
    if total > MAX_SWEEP_RUNS:
        raise BadInput(f"--runs/--vary: {total:,} runs; a sweep runs at most "
                       f"{MAX_SWEEP_RUNS:,}")
    data = base.model_dump(mode="json")
    points = []
    for i, combo in enumerate(itertools.product(*(a.values for a in axes))):
        overrides = [f"{a.key}={json.dumps(v)}" for a, v in zip(axes, combo, strict=True)]
        points.append(Point(i, combo, validate_scenario(data, source, overrides)))
    seed = base.seed if base_seed is None else base_seed
    return SweepPlan(base.name, tuple(axes), tuple(points), runs, seed)


# ---- the worker side: small, picklable in and out ------------------------------------

_SCENARIOS: dict[str, Scenario] = {}


def run_chunk(scenario: dict[str, Any], seeds: Sequence[int], full_horizon: bool = False
              ) -> list[dict[str, Any]]:
    """Run ``scenario`` (a validated scenario's JSON dump) for each seed; per-run rows.

    Runs in a worker process (pool or Dask): takes and returns plain data only.
    """
    from sim.drills.run import run_drill
    from sim.results.writer import summary

    s = _validated(scenario)
    rows = []
    for seed in seeds:
        doc = summary(run_drill(s, seed, full_horizon=full_horizon))
        rows.append({"seed": seed, **{k: doc[k] for k in ROW_KEYS}})
    return rows


def _validated(scenario: dict[str, Any]) -> Scenario:
    """The Scenario for ``scenario``, validated once per worker (one kept at a time; a
    Dask worker's threads may race here, which costs at most a second validation)."""
    key = json.dumps(scenario, sort_keys=True)
    cached = _SCENARIOS.get(key)
    if cached is None:
        cached = Scenario.model_validate(scenario)
        _SCENARIOS.clear()
        _SCENARIOS[key] = cached
    return cached


Chunk = tuple[int, dict[str, Any], list[int]]


def chunks(plan: SweepPlan, size: int) -> list[Chunk]:
    """The plan's tasks cut into chunks of at most ``size`` seeds of one point."""
    out: list[Chunk] = []
    for point in plan.points:
        data = point.scenario.model_dump(mode="json")
        seeds = [plan.base_seed + i for i in range(plan.runs)]
        out += [(point.index, data, seeds[j:j + size]) for j in range(0, len(seeds), size)]
    return out


def chunk_size(total: int, workers: int) -> int:
    """Small enough to balance the load and move the progress bar, big enough to amortize."""
    return max(1, min(20, math.ceil(total / (max(1, workers) * 8))))


# ---- aggregation -----------------------------------------------------------------------

Runs = RunTable | Iterable[Row]


def run_table(plan: SweepPlan, runs: Runs) -> RunTable:
    """``runs`` as a RunTable of ``plan``: the table itself, or one holding the rows."""
    if isinstance(runs, RunTable):
        return runs
    return RunTable.of_rows(len(plan.points), plan.runs, plan.base_seed, runs)


def sweep_document(plan: SweepPlan, runs: Runs) -> dict[str, Any]:
    """The sweep's aggregates (``sweep.json``) from its RunTable (``collect``'s) or its
    rows, in any order: the same runs give the same document. Raises RuntimeError when
    runs are missing."""
    table = run_table(plan, runs)
    if len(table) != plan.total:
        raise RuntimeError(f"sweep got {len(table)} runs, expected {plan.total}")
    base = plan.points[0].scenario
    analytic = _analytic(plan, table)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "sweep",
        "complete": True,  # an interrupted sweep writes its finished runs with False
        "scenario": plan.name,
        "runs_per_point": plan.runs,
        "total_runs": plan.total,
        "seeds": {"first": plan.base_seed, "last": plan.base_seed + plan.runs - 1},
        "ci_method": CI_METHOD,
        "targets": base.targets.model_dump(),
        "gate": {**base.gate.model_dump(), "min_pass_rate": base.gate.required()},
        "vary": {a.key: [_label(v) for v in a.values] for a in plan.axes},
        "overall": _block(table, [p.index for p in plan.points]),
        "points": [_point_block(plan, p, table) for p in plan.points],
        "by_parameter": _by_parameter(plan, table),
        "analytic": analytic,
        "disagreements": _disagreements(plan, analytic),
        # a warning the runs contradict is no warning: its cross-check says so instead
        "warnings": sorted({a["warning"] for a in analytic
                            if a["warning"] and a["cross_check"] != "DISAGREES"}),
        **_inputs(base),
    }


def _inputs(base: Scenario) -> dict[str, Any]:
    """``inputs`` of a calibrated scenario (``sim.results.inputs``); else nothing."""
    from sim.results.inputs import inputs_section

    section = inputs_section(base)
    return {"inputs": section} if section is not None else {}


def _block(table: RunTable, points: list[int]) -> dict[str, Any]:
    runs, passed, false_positives = table.count(points)
    return {"runs": runs, "all_targets_met": passed, "false_positives": false_positives,
            "metrics": {m: summarise(*table.judged(m, points)).to_json() for m in METRICS}}


def _point_block(plan: SweepPlan, point: Point, table: RunTable) -> dict[str, Any]:
    from sim.results.writer import digest_of

    return {"index": point.index, "scenario_digest": digest_of(point.scenario),
            "values": {a.key: _label(v) for a, v in zip(plan.axes, point.values, strict=True)},
            "numeric": {a.key: _numeric(point.scenario, a.key) for a in plan.axes},
            **_block(table, [point.index]),
            "runbook_estimate": runbook_estimate(point.scenario, table, [point.index])}


def runbook_estimate(scenario: Scenario, runs: RunTable | list[Row],
                     points: Sequence[int] = (0,)) -> dict[str, Any]:
    """The runbook's time-to-rollback estimate for the point's path beside its runs (a
    RunTable and the points to read, or rows): how many rolled back within it, faster
    than it, slower than it (a rollback that never completed is slower), with a Wilson
    interval for P(within or faster)."""
    estimate = path_spec(scenario.responder.path).estimate
    metric = "time_to_rollback_s"
    times = runs.judged(metric, points)[0] if isinstance(runs, RunTable) else np.array(
        [from_json(r["metrics"][metric]) for r in runs if r["status"][metric] != "not_measured"])
    faster = int((times < estimate.low_s).sum())
    within = int(((estimate.low_s <= times) & (times <= estimate.high_s)).sum())
    slower = len(times) - faster - within
    low, high = wilson(faster + within, len(times))
    return {"low_s": estimate.low_s, "high_s": estimate.high_s, "text": estimate.text,
            "runs": len(times), "faster": faster, "within": within, "slower": slower,
            "p_at_most_high": (faster + within) / len(times) if len(times) else None,
            "ci_low": low, "ci_high": high}


def _by_parameter(plan: SweepPlan, table: RunTable) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, axis in enumerate(plan.axes):
        entries = []
        for value in axis.values:
            points = [p for p in plan.points if p.values[k] == value]
            entries.append({"value": _label(value),
                            "numeric": _numeric(points[0].scenario, axis.key),
                            **_block(table, [p.index for p in points])})
        out[axis.key] = entries
    return out


def _analytic(plan: SweepPlan, table: RunTable) -> list[dict[str, Any]]:
    out = []
    for point in plan.points:
        for bound in bounds(point.scenario):
            values = table.checked(bound.metric, [point.index])
            result = check(bound, values)
            out.append({"point": point.index, **bound.to_json(),
                        "simulated_min": _finite(min(values)) if values else None,
                        "simulated_max": _finite(max(values)) if values else None,
                        "cross_check": result.verdict, "cross_check_detail": result.detail,
                        "exceedance": result.to_json()})
    return out


def _disagreements(plan: SweepPlan, analytic: list[dict[str, Any]]) -> list[str]:
    """One line per cross-check that disagrees, naming the grid point when there are
    several."""
    lines = []
    for a in analytic:
        if a["cross_check"] != "DISAGREES":
            continue
        values = plan.points[a["point"]].values
        where = " [" + ", ".join(f"{ax.key}={_label(v)}" for ax, v in
                                 zip(plan.axes, values, strict=True)) + "]" if values else ""
        lines.append(f"{a['metric']}{where}: {a['cross_check_detail']}")
    return lines


def _finite(value: float) -> float | None:
    return None if not math.isfinite(value) else value


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _numeric(scenario: Scenario, key: str) -> float | None:
    """The validated value at ``key`` when it is a number (durations are seconds, a fixed
    distribution is its value)."""
    node: Any = scenario.model_dump(mode="json")
    for part in key.split("."):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    if isinstance(node, dict) and node.get("dist") == "fixed":
        node = node.get("value")
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


# ---- running ----------------------------------------------------------------------------

Progress = Callable[[int], None]
PointDone = Callable[[Point, RunTable], None]


def collect(plan: SweepPlan, executor: Any, progress: Progress | None = None,
            full_horizon: bool = False, point_done: PointDone | None = None) -> RunTable:
    """Run every task of ``plan`` on ``executor`` (``sim.sweeps.executors``) into a
    RunTable, each chunk's rows stored as it completes and then dropped (iterating the
    table gives the rows in (point, seed) order). ``progress(n)`` is called as each chunk
    of ``n`` runs completes, and ``point_done(point, the table)`` as each grid point's
    last run does. Ctrl-C raises Interrupted carrying the table of the runs that
    finished."""
    size = chunk_size(plan.total, executor.workers)
    table = RunTable(len(plan.points), plan.runs, plan.base_seed)
    try:
        with _ctrl_c_noted() as noted:
            for point, result in executor.map_chunks(chunks(plan, size), full_horizon):
                table.add(point, result)
                if progress:
                    progress(len(result))
                if point_done and table.finished(point) == plan.runs:
                    point_done(plan.points[point], table)
                if noted:  # a Ctrl-C that something swallowed on its way (a __del__)
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted after {len(table)} of {plan.total} runs",
                          table) from None
    return table


@contextlib.contextmanager
def _ctrl_c_noted() -> Iterator[list[bool]]:
    """Ctrl-C raises KeyboardInterrupt as usual and is also noted (a non-empty list), so
    one that lands where Python only prints it ("Exception ignored in ... __del__") still
    stops the sweep after the chunk at hand. Only the main thread can set the handler."""
    noted: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def interrupted(signum: int, frame: Any) -> None:
        noted.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def quantile_of(doc: dict[str, Any], metric: str, name: str = "p95") -> float:
    """A quantile of the whole sweep, inf when some runs never got there."""
    return from_json(doc["overall"]["metrics"][metric][name])
