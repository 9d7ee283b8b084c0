"""Sweeps: seeds and grids, statistics, the same aggregates on any executor, the CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.scenario.model import Scenario
from sim.sweeps.executors import DaskExecutor, PoolExecutor, SerialExecutor
from sim.sweeps.stats import aggregate, quantile, wilson
from sim.sweeps.sweep import collect, parse_vary, plan_sweep, sweep_document

Load = Callable[..., Scenario]
ROOT = Path(__file__).resolve().parents[2]
FAST = ("population.users=3000", "horizon=3h", "faults.0.at=1h")


def test_wilson_interval_matches_scipy() -> None:
    """The 95 % interval is the Wilson score interval, as scipy computes it."""
    stats = pytest.importorskip("scipy.stats")
    for k, n in ((81, 100), (0, 20), (20, 20), (7, 13)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = wilson(k, n)
        assert low == pytest.approx(ci.low, abs=1e-9)
        assert high == pytest.approx(ci.high, abs=1e-9)


def test_a_run_that_never_got_there_counts_as_infinite() -> None:
    """An undetected fault fails the target and pushes the quantiles it reaches to inf."""
    rows = [{"metrics": {"m": v}, "status": {"m": s}} for v, s in
            [(10.0, "pass"), (20.0, "pass"), (None, "fail"), (None, "not_measured")]]
    agg = aggregate(rows, "m")
    assert (agg.runs, agg.never, agg.passed) == (3, 1, 2)
    assert agg.pass_rate == pytest.approx(2 / 3)
    assert agg.p50 == 20.0 and math.isinf(agg.max) and math.isinf(agg.p95)
    assert agg.to_json()["p95"] is None
    assert quantile([1.0, 2.0, 3.0, 4.0], 50) == 2.5


def test_run_i_uses_base_seed_plus_i(scenario: Load) -> None:
    """Seeds are the scenario's seed + 0..N-1, so no result depends on scheduling."""
    s = scenario("critical-bug-flag-disable")
    plan = plan_sweep(s, 3)
    assert list(plan.tasks()) == [(0, s.seed), (0, s.seed + 1), (0, s.seed + 2)]
    rows = collect(plan, SerialExecutor())
    assert [r["seed"] for r in rows] == [s.seed, s.seed + 1, s.seed + 2]


def test_collected_runs_give_back_the_workers_rows_key_for_key(scenario: Load) -> None:
    """Rule: ``collect`` keeps each worker row's content in columns, not the row (a large
    sweep holds a few dozen bytes a run, not a dict), and gives the rows back as the
    workers sent them: same keys in the same order, same values, in (point, seed) order."""
    from sim.sweeps.sweep import chunks, run_chunk

    plan = plan_sweep(scenario("critical-bug-flag-disable"), 2)
    (point, data, seeds), = chunks(plan, 2)
    rows = [{"point": point, **r} for r in run_chunk(data, seeds)]
    table = collect(plan, SerialExecutor())
    assert json.dumps(list(table)) == json.dumps(rows)
    import numpy as np

    held = {k: v for k, v in vars(table).items() if k != "_costs"}
    assert all(isinstance(v, np.ndarray | int) for v in held.values())
    assert table._costs == {}  # kept only for a false positive; these runs had none


def test_grid_aggregates_per_point_and_per_parameter_value(scenario: Load) -> None:
    """A 2×2 grid: four points, and per value of each parameter the runs of both others."""
    s = scenario("critical-bug-flag-disable")
    axes = [parse_vary("responder.mode=human,automated"),
            parse_vary("monitoring.evaluation_interval=30s,2m")]
    plan = plan_sweep(s, 3, axes)
    doc = sweep_document(plan, collect(plan, SerialExecutor()))
    assert doc["total_runs"] == 12 and len(doc["points"]) == 4
    assert doc["points"][1]["values"] == {"responder.mode": "human",
                                          "monitoring.evaluation_interval": "2m"}
    entries = doc["by_parameter"]["monitoring.evaluation_interval"]
    assert [e["value"] for e in entries] == ["30s", "2m"]
    assert [e["numeric"] for e in entries] == [30.0, 120.0]
    assert all(e["runs"] == 6 for e in entries)
    automated = doc["by_parameter"]["responder.mode"][1]["metrics"]["time_to_decision_s"]
    assert automated["max"] == s.responder.automation_latency
    assert doc["ci_method"] == "Wilson score interval, 95 %"


def test_same_aggregates_with_one_worker_two_workers_and_dask(scenario: Load) -> None:
    """The same sweep gives the same document serially, on a 2-process pool and on Dask."""
    distributed = pytest.importorskip("distributed")
    s = scenario("critical-bug-flag-disable")
    plan = plan_sweep(s, 6, [parse_vary("responder.mode=human,automated")])
    serial = sweep_document(plan, collect(plan, SerialExecutor()))
    pool = PoolExecutor(2)
    try:
        pooled = sweep_document(plan, collect(plan, pool))
        again = sweep_document(plan, collect(plan, pool))  # the pool serves a second sweep
    finally:
        pool.close()
    assert again == pooled
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask = DaskExecutor(cluster.scheduler_address)
        try:
            on_dask = sweep_document(plan, collect(plan, dask))
        finally:
            dask.close()
    dump = json.dumps(serial, sort_keys=True)
    assert json.dumps(pooled, sort_keys=True) == dump
    assert json.dumps(on_dask, sort_keys=True) == dump


def test_rows_in_any_order_give_the_same_document(scenario: Load) -> None:
    """Aggregation sorts by (point, seed) first: completion order does not matter."""
    plan = plan_sweep(scenario("critical-bug-flag-disable"), 4)
    rows = list(collect(plan, SerialExecutor()))
    assert sweep_document(plan, rows[::-1]) == sweep_document(plan, rows)


def test_analytic_bounds_agree_with_the_simulation(scenario: Load) -> None:
    """Automated env-var rollback with a fixed 240 s build: rollback inside the closed form;
    a strong fault: detection within the alert rule's bound. (The closed form now counts
    the path's 5 Vercel calls up to the redeploy × the API latency, fixed at 0.5 s here:
    an unbounded latency distribution would leave the bound open.)"""
    # at a quarter of the traffic ≈ 24 errors per 5 min: a count of 6 is a strong breach
    # even when few exposed users visit (their page views come in clusters of a visit)
    s = scenario("critical-bug-env-var", "world.build_time=240s", "world.queue_time=5s",
                 "world.api_latency=0.5s", "responder.mode=automated",
                 "faults.0.error_rate=0.9", "monitoring.alert.threshold=6")
    plan = plan_sweep(s, 5)
    doc = sweep_document(plan, collect(plan, SerialExecutor()))
    checks = {a["metric"]: a for a in doc["analytic"]}
    assert checks["time_to_rollback_s"]["low"] == 247.5  # 5 calls × 0.5 s + queue + build
    assert checks["time_to_rollback_s"]["high"] == 257.5  # + one tick
    # window 300 + tick 10 + ingest 2 + resolution 60 + Snuba's errors delay 30 + the
    # evaluation interval 60 (error events are sent at once: no SDK flush for an
    # error-count rule; one breach: no further evaluation periods)
    assert checks["time_to_detect_s"]["high"] == 462.0
    for metric in ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s"):
        assert checks[metric]["cross_check"] == "agrees", checks[metric]
    assert doc["warnings"] == []


def test_warning_when_a_target_cannot_be_met_whatever_the_seed(scenario: Load) -> None:
    """A 10-minute build, a threshold the fault never crosses: warnings, and the simulation
    agrees (every run misses). The build's 600 s is the hard minimum: queue, steps and
    calls are drawn and may be near zero."""
    slow = scenario("critical-bug-env-var", "world.build_time=10m")
    plan = plan_sweep(slow, 3)
    doc = sweep_document(plan, collect(plan, SerialExecutor()))
    assert any("time to rollback: at least 600 s" in w for w in doc["warnings"])
    assert doc["overall"]["metrics"]["time_to_rollback_s"]["passed"] == 0
    deaf = scenario("critical-bug-flag-disable", "monitoring.alert.threshold=90")
    plan = plan_sweep(deaf, 2)
    doc = sweep_document(plan, collect(plan, SerialExecutor()))
    assert any("the alert can never fire" in w for w in doc["warnings"])
    detect = next(a for a in doc["analytic"] if a["metric"] == "time_to_detect_s")
    assert detect["cross_check"] == "agrees"


def _drill(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def test_cli_sweep_writes_its_outputs_without_a_progress_bar_off_a_tty(tmp_path: Path) -> None:
    """``drill sweep --json`` on 2 workers: the document on stdout (a list of one, as every
    ``--json``), files written, and no progress bar on stderr when it is not a terminal —
    only the line each grid point prints as it finishes."""
    out = tmp_path / "sweep"
    proc = _drill("sweep", str(ROOT / "scenarios/critical-bug-flag-disable.yaml"), "--runs", "4",
                  "--jobs", "2", "--vary", "responder.mode=human,automated", "--out", str(out),
                  "--json", *(x for o in FAST for x in ("--set", o)), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(line.split(":")[0] for line in proc.stderr.splitlines()) == [
        "critical-bug-flag-disable [responder.mode=automated]",
        "critical-bug-flag-disable [responder.mode=human]"]
    [doc] = json.loads(proc.stdout)
    assert doc["total_runs"] == 8 and doc == json.loads((out / "sweep.json").read_text())
    for name in ("runs.csv", "report.html", "cdf.png", "cdf.svg", "vary-responder.mode.png"):
        assert (out / name).stat().st_size > 0, name
    assert len((out / "runs.csv").read_text().splitlines()) == 9


@pytest.mark.parametrize(("vary", "message"), [
    ("responder.mode", "write --vary key.path=value1,value2"),
    ("responder.mode=human,robot", "field 'responder.mode'"),
    ("population.users=1,1", "a value is repeated"),
])
def test_cli_sweep_bad_input_exits_2(tmp_path: Path, vary: str, message: str) -> None:
    """A bad --vary is one line on stderr and exit 2, before anything runs."""
    proc = _drill("sweep", "--runs", "2", "--vary", vary, "--out", str(tmp_path / "x"),
                  cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


def test_sweeps_show_the_runbook_estimate_beside_time_to_rollback() -> None:
    """Rule: each point reports how many runs rolled back faster than, within and slower
    than the runbook's estimate for its path (a rollback that never completed is slower,
    a run where the metric is not measured is left out), with P(≤ the estimate's high)."""
    from sim.scenario.loader import load_default
    from sim.sweeps.sweep import runbook_estimate

    scenario = load_default()  # posthog-flag-disable: the runbook's 30 s - 2 min

    def row(value: float | None, status: str) -> dict:
        return {"metrics": {"time_to_rollback_s": value},
                "status": {"time_to_rollback_s": status}}

    rows = [row(20.0, "pass"), row(60.0, "pass"), row(119.9, "pass"), row(200.0, "pass"),
            row(None, "fail"), row(None, "not_measured")]
    e = runbook_estimate(scenario, rows)
    assert (e["low_s"], e["high_s"]) == (30.0, 120.0)
    assert (e["runs"], e["faster"], e["within"], e["slower"]) == (5, 1, 2, 2)
    assert e["p_at_most_high"] == 3 / 5 and e["ci_low"] < 0.6 < e["ci_high"]


def test_sweeps_count_false_positives_apart() -> None:
    """Rule: a run whose first critical alert fired before the fault is counted as a false
    positive in the sweep, overall and per point (an alert threshold of 6 errors in 5 min,
    which background errors cross: seed 706 alerts at 1,635 s, seed 705 only after the
    fault)."""
    from sim.scenario.loader import load_default

    noisy = load_default(["monitoring.alert.threshold=6"])
    plan = plan_sweep(noisy, runs=2, base_seed=705)  # seeds 705 and 706
    doc = sweep_document(plan, collect(plan, SerialExecutor()))
    assert doc["overall"]["false_positives"] == 1
    assert doc["points"][0]["false_positives"] == 1
