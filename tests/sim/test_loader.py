"""Scenario validation: one clear message naming the file, the field and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario.loader import load_default, load_scenario

BASE = "name: t\nfaults: [{kind: error_spike, at: 1h, error_rate: 0.5}]\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "field", "says"), [
    (BASE + "traffik: {}\n", "traffik", "allowed here: "),
    (BASE + "population: {users: many}\n", "population.users", "valid integer"),
    (BASE + "tick: -5s\n", "tick", ">= 0"),
    (BASE + "monitoring: {ingest_latency: -1}\n", "monitoring.ingest_latency", ">= 0"),
    ("name: t\nfaults: [{kind: meteor, at: 1h}]\n", "faults.0", "allowed: error_spike"),
    (BASE + "responder: {path: pray}\n", "responder.path", "posthog-flag-disable"),
    (BASE + "population: {usrs: 5}\n", "population.usrs", "users"),
])
def test_bad_field_is_named_with_what_is_allowed(tmp_path: Path, text: str, field: str,
                                                 says: str) -> None:
    """Each kind of mistake names the file, the field and the allowed values."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert info.value.field.startswith(field)
    assert says in message


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    """An unknown key in a nested mapping lists that mapping's keys."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, BASE + "population: {usrs: 5}\n"))
    assert "internal_users" in str(info.value) and "users" in str(info.value)


def test_fault_after_horizon_is_rejected(tmp_path: Path) -> None:
    """A fault that would start after the horizon is a scenario error, not a silent no-op."""
    with pytest.raises(ScenarioError, match=r"faults\.0\.at"):
        load_scenario(write(tmp_path, BASE + "horizon: 30m\n"))


def test_override_reaches_nested_and_list_fields() -> None:
    """--set key.path=value works on nested mappings and list items, parsed as YAML."""
    s = load_default(["population.users=1234", "faults.0.at=45m", "responder.mode=automated"])
    assert s.population.users == 1234
    assert s.faults[0].at == 2700.0
    assert s.responder.mode == "automated"


def test_bad_override_is_bad_input() -> None:
    """An override into a missing list index is rejected with the key named."""
    with pytest.raises(ScenarioError, match=r"faults\.5\.at"):
        load_default(["faults.5.at=1h"])


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    """Broken YAML is reported with its line, as a scenario error."""
    with pytest.raises(ScenarioError, match=r"not valid YAML at line \d+, column \d+"):
        load_scenario(write(tmp_path, "name: t\nfaults: [\n"))


@pytest.mark.parametrize("text", [
    BASE + "bogus: 1\n",
    BASE + "population: {users: -3}\n",
    "name: t\nfaults: [{kind: meteor, at: 1h}]\n",
    "- just\n- a list\n",
])
def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path, text: str) -> None:
    """`drill run bad.yaml` prints one line on stderr, no traceback, and exits 2."""
    path = write(tmp_path, text)
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0]
    assert not (tmp_path / "results").exists()


def test_an_overlay_key_with_no_place_in_the_scenario_names_the_overlay(tmp_path: Path) -> None:
    """``--set @FILE``: a key the scenario has no place for is the overlay's mistake, so
    the one-line error names the overlay file, not the scenario."""
    overlay = tmp_path / "cal.yaml"
    overlay.write_text("faults.9.at: 10m\n")
    with pytest.raises(ScenarioError) as caught:
        load_default([f"@{overlay}"])
    assert str(caught.value).startswith(f"--set @{overlay}: field 'faults.9.at'")
