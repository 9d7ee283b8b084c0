"""The database rollback's cost model: every duration or rate the rollback uses is
stated by the catalog's scenarios, and a drill lists the inputs left at their default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fakes.common.clock import ManualClock
from sim.drills.run import run_drill
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario
from sim.world.database import AppDatabase

Load = Callable[..., Scenario]
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WITH_DATABASE = sorted(p.name for p in SCENARIOS.glob("*.yaml")
                       if load_scenario(p).database is not None)


@pytest.mark.parametrize("name", WITH_DATABASE)
def test_catalog_database_scenarios_state_every_cost_their_rollback_uses(name: str) -> None:
    """Rule: no public source fixes how fast an app stops or a database dumps, so a
    catalog scenario states each cost input its rollback uses (none left at a default)."""
    spec = load_scenario(SCENARIOS / name).database
    assert spec is not None
    database = AppDatabase(spec, ManualClock(), np.random.default_rng(0))
    try:
        assert database.cost_defaults() == []
    finally:
        database.close()


def test_the_rollback_record_lists_the_cost_inputs_left_at_their_default(
        scenario: Load) -> None:
    """Rule: a scenario that states only some costs gets the others listed in the
    rollback's record (``cost_defaults``), so a report shows what the timing rests on."""
    result = run_drill(scenario("database-rollback", "database.cost={stop_app_s: 30}",
                                "responder.mode=automated"))
    done = result.journal.first("rollback_completed")
    assert done is not None
    assert "stop_app_s" not in done.data["cost_defaults"]
    assert {"backup_rows_per_s", "verify_s", "drop_column_rows_per_s"} <= \
        set(done.data["cost_defaults"])
    assert "restore_rows_per_s" not in done.data["cost_defaults"]  # no restore: unused
