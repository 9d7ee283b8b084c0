"""Exit codes: 0 met, 1 missed, 2 bad input (one line naming file and field, before any
run), 3 internal error (one line naming what failed and the file with its traceback)."""

from __future__ import annotations

import errno
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sim.drill_cli import SCENARIOS, drill

BASE = (SCENARIOS / "critical-bug-flag-disable.yaml").read_text()
PULSE = (SCENARIOS / "pulse-sync-api-errors.yaml").read_text()


def _with(text: str, field: str, value: str) -> str:
    """``text`` with the top-level ``field`` line set to ``value`` (written as is)."""
    line = re.compile(rf"^{field}: .*$", re.M)
    return line.sub(f"{field}: {value}", text) if line.search(text) else \
        text + f"\n{field}: {value}\n"


def _set(text: str, dotted: str, value: Any) -> str:
    """``text`` parsed, ``dotted`` (``a.b.0.c``) set to ``value``, dumped again."""
    data = yaml.safe_load(text)
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[int(last) if isinstance(node, list) else last] = value
    return yaml.safe_dump(data)


# (what is wrong, the file's text, a fragment the one error line must hold)
GAPS = [
    ("duplicate key", BASE + "\nseed: 3\n", "duplicate key 'seed'"),
    ("nested 600 levels", BASE + "\ndescription: " + "[" * 600 + "]" * 600 + "\n",
     "nested deeper than"),
    ("a 5,000-digit integer", _with(BASE, "seed", "9" * 5000), "too many digits"),
    ("start in year 1", _with(BASE, "start", "0001-01-01"), "'start'"),
    ("start + horizon past the calendar", _with(BASE, "start", "8999-12-31T23:00:00Z"), "'start'"),
    ("a year-long horizon", _with(BASE, "horizon", "365d"), "MB"),
    ("a 1 ms tick", _with(BASE, "tick", "1ms"), "ticks"),
    ("a 200-character name", _with(BASE, "name", "a" * 200), "'name'"),
    ("an infinite sigma", _set(BASE, "responder.decision_delay",
                               {"dist": "lognormal", "median": 60, "sigma": math.inf}),
     "decision_delay.sigma"),
    ("an infinite latency", _set(BASE, "traffic.latency_new.median_ms", math.inf),
     "latency_new.median_ms"),
    ("a NaN error rate", _set(BASE, "faults.0.error_rate", math.nan), "error_rate"),
    ("a version git refuses", _set(BASE, "world.current.version", "v2..0"),
     "git refuses the tag"),
    ("a pulse_fault rate over 1", PULSE.replace("{rate: 0.6}", "{rate: 6}"),
     "faults.0.params.rate"),
    ("an unknown pulse_fault param", PULSE.replace("{rate: 0.6}", "{rat: 0.6}"),
     "faults.0.params.rat"),
    ("a billion laughs", "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
     "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", "aliases"),
]


@pytest.mark.parametrize(("problem", "text", "fragment"), GAPS, ids=[g[0] for g in GAPS])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_scenario_the_drill_cannot_use_exits_2_with_one_line_before_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, problem: str,
        text: str, fragment: str) -> None:
    """Each validation gap of issue 13: exit 2, one stderr line naming the file and what
    is wrong, no traceback, and no drill started."""
    monkeypatch.setattr("sim.drills.run.run_drill", _never)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = drill(command, str(path), *(["--out", str(tmp_path / "out")]
                                         if command == "run" else []))
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1 and "Traceback" not in result.err
    assert str(path) in result.err and fragment in result.err
    assert not (tmp_path / "out").exists()


def _never(*args: object, **kwargs: object) -> None:
    raise AssertionError("a drill ran although its input was refused")


@pytest.mark.parametrize("out", ["a-file", "a-file/below", "x" * 300])
def test_an_unusable_out_exits_2_before_any_run(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                out: str) -> None:
    """``--out`` that is a file, under a file, or too long a name: exit 2 before the drill
    runs, one line, nothing created."""
    monkeypatch.setattr("sim.drills.run.run_drill", _never)
    (tmp_path / "a-file").write_text("")
    before = sorted(tmp_path.iterdir())
    result = drill("run", str(SCENARIOS / "critical-bug-flag-disable.yaml"),
                   "--out", str(tmp_path / out))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "--out" in result.err and sorted(tmp_path.iterdir()) == before


def test_an_unwritable_out_exits_2_before_a_sweep_starts(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """A sweep's ``--out`` that cannot be written (here: no such file system, /proc) is
    refused before any run: the executor is never asked."""
    monkeypatch.setattr("sim.sweeps.sweep.collect", _never)
    result = drill("sweep", str(SCENARIOS / "critical-bug-flag-disable.yaml"), "--runs", "2",
                   "--out", "/proc/drill-cannot-write-here")
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "cannot write" in result.err


def test_an_unwritable_baseline_file_exits_2_before_a_sweep(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """``drill baseline --out`` naming a directory is refused before any run."""
    monkeypatch.setattr("sim.sweeps.sweep.collect", _never)
    result = drill("baseline", str(SCENARIOS / "critical-bug-flag-disable.yaml"),
                   "--out", str(tmp_path))
    assert result.code == 2 and "is a directory" in result.err


def test_an_internal_error_exits_3_with_one_line_and_a_traceback_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is not a missed target: exit 3, one line naming the exception, where it was
    raised and the file holding its traceback; the traceback itself only with --debug."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug in the drill")

    monkeypatch.setattr("sim.drills.run.run_drill", broken)
    args = ("run", str(SCENARIOS / "critical-bug-flag-disable.yaml"),
            "--out", str(tmp_path / "out"))
    result = drill(*args)
    assert result.code == 3 and len(result.err_lines) == 1, result.err
    assert "ZeroDivisionError: a bug in the drill" in result.err
    assert "Traceback" not in result.err
    report = Path(result.err.rsplit("traceback in ", 1)[1].strip())
    assert report.parent == tmp_path and "ZeroDivisionError" in report.read_text()
    debug = drill("--debug", *args)
    assert debug.code == 3 and "Traceback (most recent call last)" in debug.err


def test_results_that_cannot_be_written_exit_3_and_leave_nothing_half_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while writing the series: exit 3, one line, and neither the run folder
    nor a staging folder is left (no summary.json beside a truncated series.csv)."""
    def disk_full(result: object, path: Path) -> None:
        path.write_text("t,pageviews\n0,")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sim.results.writer._write_series", disk_full)
    out = tmp_path / "out"
    result = drill("run", str(SCENARIOS / "critical-bug-flag-disable.yaml"),
                   "--set", "horizon=1h", "--set", "faults.0.at=30m", "--no-html",
                   "--out", str(out))
    assert result.code == 3 and len(result.err_lines) == 1, result.err
    assert "No space left on device" in result.err
    assert list(tmp_path.iterdir()) == []


def test_a_met_and_a_missed_target_keep_exit_codes_0_and_1(tmp_path: Path) -> None:
    """The verdicts are unchanged: the staging drill passes (0), alert-no-data misses (1)."""
    passed = drill("run", str(SCENARIOS / "staging-drill.yaml"), "--no-html",
                   "--out", str(tmp_path / "a"))
    missed = drill("run", str(SCENARIOS / "alert-no-data.yaml"), "--no-html",
                   "--out", str(tmp_path / "b"))
    assert (passed.code, missed.code) == (0, 1)
    assert (tmp_path / "a" / "summary.json").exists()
