"""Fixtures for the harness tests: the repository's scenarios, shrunk to run fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
# A quarter of the users: the error-count alert's threshold (an absolute count, 50 =
# 5 % of 5 min of page views at 20,000 users) is restated for a quarter of the traffic.
FAST = ("population.users=5000", "horizon=3h", "faults.0.at=1h", "monitoring.alert.threshold=12")


@pytest.fixture
def scenario() -> Callable[..., Scenario]:
    """``scenario(name, *overrides)``: a catalog scenario, shrunk for speed."""

    def load(name: str, *overrides: str, fast: bool = True) -> Scenario:
        weeks = name.startswith(("rollout-", "staging-"))  # whole drills: never shrunk
        return load_scenario(SCENARIOS / f"{name}.yaml",
                             (*(FAST if fast and not weeks else ()), *overrides))

    return load
