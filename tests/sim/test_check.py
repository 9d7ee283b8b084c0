"""The CI gate: pass rates against the scenario's gate, p95s against the baseline, reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from sim.scenario.model import Scenario
from sim.sweeps.gate import judge, junit_xml, markdown

Load = Callable[..., Scenario]
ROOT = Path(__file__).resolve().parents[2]
FAST = ("population.users=3000", "horizon=3h", "faults.0.at=1h")


def _doc(metrics: dict[str, tuple[int, int, float | None]]) -> dict:
    """A sweep document with ``metric: (passed, runs, p95)``; the other timings all pass,
    the rest are not measured."""
    names = ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s",
             "affected_users_pct", "data_loss", "repeat_incidents")
    out = {}
    for name in names:
        default = (100, 100, 50.0) if name.startswith("time_to") else (0, 0, None)
        passed, runs, p95 = metrics.get(name, default)
        out[name] = {"runs": runs, "passed": passed, "p50": p95, "p95": p95,
                     "pass_rate": passed / runs if runs else None, "ci_low": 0.0, "ci_high": 1.0}
    return {"total_runs": 100, "warnings": [], "overall": {"metrics": out}}


def test_pass_rate_below_the_gate_fails(scenario: Load) -> None:
    """89 of 100 against a required 0.9 fails; 90 of 100 passes."""
    s = scenario("critical-bug-flag-disable", "gate.min_pass_rate.time_to_detect_s=0.9")
    ok = _doc({"time_to_detect_s": (90, 100, 200.0)})
    bad = _doc({"time_to_detect_s": (89, 100, 200.0)})
    assert judge(s, ok, None).passed
    verdict = judge(s, bad, None)
    assert not verdict.passed
    [failure] = [m for v in verdict.verdicts for m in v.failures]
    assert "89/100" in failure and "requires 0.900" in failure


def test_p95_worse_than_baseline_beyond_tolerance_fails(scenario: Load) -> None:
    """With a 10 % tolerance, p95 110 against a baseline 100 passes, 111 fails."""
    s = scenario("critical-bug-flag-disable", "gate.p95_tolerance=0.1")
    baseline = {"scenarios": {s.name: {"metrics": {"time_to_rollback_s": {"p95": 100.0}}}}}
    assert judge(s, _doc({"time_to_rollback_s": (100, 100, 110.0)}), baseline).passed
    check = judge(s, _doc({"time_to_rollback_s": (100, 100, 111.0)}), baseline)
    failures = [m for v in check.verdicts for m in v.failures]
    assert len(failures) == 1 and "worse than the baseline" in failures[0]
    never = judge(s, _doc({"time_to_rollback_s": (0, 100, None)}), baseline)
    assert any("∞" in m for v in never.verdicts for m in v.failures)


def test_junit_has_a_testcase_per_scenario_and_metric(scenario: Load) -> None:
    """JUnit XML: one suite per scenario, one case per metric, failures carry the message,
    unmeasured metrics are skipped; the Markdown summary says FAIL."""
    s = scenario("critical-bug-flag-disable")
    check = judge(s, _doc({"time_to_detect_s": (10, 100, 900.0)}), None)
    root = ET.fromstring(junit_xml([check]))
    [suite] = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 6 and suite.get("name") == s.name
    failure = cases["time_to_detect_s"].find("failure")
    assert failure is not None and "10/100" in (failure.get("message") or "")
    assert cases["data_loss"].find("skipped") is not None
    assert root.get("failures") == str(sum(1 for c in cases.values()
                                           if c.find("failure") is not None))
    md = markdown([check])
    assert md.startswith("## drill check: ❌ failed") and "**FAIL**" in md


def test_cross_check_disagreements_are_shown_but_not_gated(scenario: Load) -> None:
    """Rule: a sweep's analytic disagreements appear in the check's Markdown summary and
    JUnit output; they are not gate failures (the targets and baseline decide those)."""
    s = scenario("critical-bug-flag-disable")
    doc = {**_doc({}), "disagreements": ["time_to_decision_s: 12 of 20 runs over the 495 s "
                                         "high end"]}
    check = judge(s, doc, None)
    assert check.passed and check.disagreements == doc["disagreements"]
    assert "✗ cross-check disagrees: time_to_decision_s: 12 of 20" in markdown([check])
    out = ET.fromstring(junit_xml([check])).find("testsuite/system-out")
    assert out is not None and "cross-check disagrees: time_to_decision_s" in (out.text or "")


def _drill(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def _sets(*overrides: str) -> list[str]:
    return [x for o in overrides for x in ("--set", o)]


def test_check_fails_on_a_scenario_modified_to_miss_a_target(tmp_path: Path) -> None:
    """The env-var drill with a 10-minute build misses the rollback target in every run:
    exit 1, a JUnit failure for time_to_rollback_s, FAIL in the summary."""
    data = yaml.safe_load((ROOT / "scenarios/critical-bug-env-var.yaml").read_text())
    data["world"]["build_time"] = "10m"
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = _drill("check", str(path), "--runs", "6", "--jobs", "1", "--no-html",
                  "--out", str(tmp_path / "out"), "--junit", str(tmp_path / "junit.xml"),
                  "--summary", str(tmp_path / "summary.md"), *_sets(*FAST), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL  critical-bug-env-var" in proc.stdout
    root = ET.parse(tmp_path / "junit.xml").getroot()
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert "time_to_rollback_s" in failed
    summary = (tmp_path / "summary.md").read_text()
    assert "❌ failed" in summary and "cannot be met whatever the seed" in summary


@pytest.mark.slow
def test_check_passes_on_the_catalog_and_fails_when_rollback_gets_slower(tmp_path: Path) -> None:
    """``drill baseline`` then ``drill check`` on the whole catalog passes (exit 0); the
    env-var drill with a slower build fails against that baseline on its p95 (exit 1).

    Detection's pass-rate requirement is sized for the scenarios' 100 runs (a rate of
    ~26 % is anywhere from 0 to 6 of 12): at 12 runs this test lifts it, and `.ci/run`'s
    ``drill check`` holds it at the gate's own 100 runs against the committed baseline."""
    baseline = tmp_path / "baseline.json"
    common = ["--runs", "12", "--jobs", "2", "--set", "gate.min_pass_rate.time_to_detect_s=null"]
    proc = _drill("baseline", str(ROOT / "scenarios"), "--out", str(baseline), *common,
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(baseline.read_text())
    assert doc["kind"] == "drill-baseline" and "critical-bug-env-var" in doc["scenarios"]
    reports = ["--no-html", "--out", str(tmp_path / "out"), "--junit", str(tmp_path / "j.xml"),
               "--summary", str(tmp_path / "s.md"), "--baseline", str(baseline), *common]
    proc = _drill("check", str(ROOT / "scenarios"), *reports, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "drill check: passed" in proc.stdout
    slower = _drill("check", str(ROOT / "scenarios/critical-bug-env-var.yaml"), *reports,
                    "--set", "world.build_time=200s", cwd=tmp_path)
    assert slower.returncode == 1, slower.stdout + slower.stderr
    assert "Time to rollback p95" in slower.stdout and "worse than the baseline" in slower.stdout


def test_check_with_a_missing_baseline_is_bad_input(tmp_path: Path) -> None:
    """A baseline path that does not exist: exit 2 with one line, nothing run."""
    proc = _drill("check", "--baseline", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "no such baseline" in proc.stderr and "Traceback" not in proc.stderr
