"""What one run produced: the journal, the traffic statistics, the metrics and the facts.

``RunResult`` is what every drill returns; ``SectionedResult`` adds the sections a
rollout or staging drill writes into its summary (``gates``, ``rollout``, ``staging``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.journal import Journal
from sim.results.metrics import Metrics
from sim.scenario.model import Scenario
from sim.world.page_loads import TrafficStats


@dataclass
class RunResult:
    """Everything one run produced."""

    scenario: Scenario
    seed: int
    journal: Journal
    stats: TrafficStats
    metrics: Metrics
    facts: dict[str, Any]
    samples: list[dict[str, str]]
    # summary.json's flag_module section (sim.world.flag_eval), set after the run; None
    # when the scenario has no flag.module
    flag_module: dict[str, Any] | None = field(default=None, init=False)



@dataclass
class SectionedResult(RunResult):
    """A run's result plus the sections its summary adds (``gates``, ``rollout``...)."""

    sections: dict[str, Any] = field(default_factory=dict)
