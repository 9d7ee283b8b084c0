"""No scenario file makes a traceback: the catalog's files, mutated (a key deleted, a
wrong type, huge, negative, infinite or NaN numbers, deep nesting, long strings, unknown
keys, integers past Python's digit limit), give exit 0, 1 or 2, exactly one stderr line
for 2, never a traceback or an internal error, in bounded time. Hypothesis, derandomized:
the same examples every run."""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sim.drill_cli import SCENARIOS, drill

FILES = sorted(SCENARIOS.glob("*.yaml"))
# The incident drills run in about a second once shrunk; rollout and staging drills
# simulate weeks and are exercised by validation only.
RUNNABLE = [f for f in FILES if not f.name.startswith(("rollout-", "staging-"))]
DEEP, BIG_INT = "__deep__", "__big_int__"
VALUES = st.sampled_from([
    None, True, "x", "", "x" * 10_000, [], [1, 2], {}, {"a": 1}, 0, -1, -1e300, 1e308,
    10**400, float("inf"), float("-inf"), float("nan"), 0.5, 3, "1h", "-5m", "9999d",
    "2026-01-01", "0001-01-01", DEEP, BIG_INT])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and list indexes) into the parsed file."""
    found = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else \
        enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


def _shrunk(data: dict[str, Any]) -> dict[str, Any]:
    """The drill made small: 3 hours, 2,000 users, its faults at 1 h."""
    data["horizon"] = "3h"
    data.setdefault("population", {})["users"] = 2000
    for fault in data.get("faults", []):
        fault["at"] = "1h"
    return data


NUMBERS = st.sampled_from([0, 1, 0.5, 2, 7, 1e3, 1e6, 1e9, -1, 0.001])


@st.composite
def renumbered(draw: st.DrawFn, files: list[Path]) -> tuple[Path, str]:
    """A shrunk catalog drill with one to three of its numbers changed: mostly still
    valid, so the drill runs."""
    path = draw(st.sampled_from(files))
    data = _shrunk(yaml.safe_load(path.read_text()))
    for _ in range(draw(st.integers(1, 3))):
        numeric = [p for p in _paths(data) if _is_number(_get(data, p))]
        *parent_keys, key = draw(st.sampled_from(numeric))
        _get(data, tuple(parent_keys))[key] = draw(NUMBERS)
    return path, yaml.safe_dump(data, allow_unicode=True)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@st.composite
def mutated(draw: st.DrawFn, files: list[Path]) -> tuple[Path, str]:
    """A catalog file and its text after one to three mutations."""
    path = draw(st.sampled_from(files))
    data = yaml.safe_load(path.read_text())
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        where = draw(st.sampled_from(paths))
        *parent_keys, key = where
        parent = _get(data, tuple(parent_keys))
        action = draw(st.sampled_from(["delete", "set", "set", "unknown"]))
        if action == "delete":
            del parent[key]
        elif action == "unknown" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["bogus", "Name", "tick_", "x" * 300]))] = 1
        else:
            parent[key] = copy.deepcopy(draw(VALUES))  # never mutate the shared sample
    text = yaml.safe_dump(data, allow_unicode=True)
    text = text.replace(DEEP, "[" * 700 + "]" * 700)
    return path, text.replace(BIG_INT, "9" * 5000)


def _check(args: list[str], allowed: set[int], budget_s: float) -> None:
    start = time.perf_counter()
    result = drill(*args)
    elapsed = time.perf_counter() - start
    assert result.code in allowed, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    if result.code == 2:
        assert len(result.err_lines) == 1, result.err
    assert elapsed < budget_s, f"{elapsed:.1f} s"


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated(FILES))
def test_a_mutated_scenario_validates_or_is_refused_in_one_line(case: tuple[Path, str]
                                                                ) -> None:
    """``drill validate``: exit 0 or 2, one line for 2, no traceback, under 5 s."""
    path, text = case
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / path.name
        target.write_text(text, encoding="utf-8")
        _check(["validate", str(target)], {0, 2}, budget_s=5.0)


@settings(max_examples=10, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(renumbered(RUNNABLE))
def test_a_renumbered_scenario_runs_or_is_refused_in_one_line(case: tuple[Path, str]
                                                              ) -> None:
    """``drill run`` of a shrunk incident drill with some numbers changed: exit 0, 1 or 2,
    one line for 2, no traceback, under 30 s."""
    path, text = case
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / path.name
        target.write_text(text, encoding="utf-8")
        _check(["run", str(target), "--no-html", "--out", str(Path(tmp) / "out")],
               {0, 1, 2}, budget_s=30.0)
