"""Running a drill: the one entry point, dispatching on the scenario's kind.

An incident drill by default (``sim.drills.incident``); a scenario with a ``rollout`` plan
runs the gradual-rollout drill (``sim.drills.rollout``), one with a ``staging`` section
the pre-deployment staging drill (``sim.drills.staging``). All three stand on the same
skeleton (``sim.drills.skeleton``).
"""

from __future__ import annotations

from sim.drills.incident import IncidentDrill
from sim.results.run import RunResult
from sim.scenario.model import Scenario


def run_drill(scenario: Scenario, seed: int | None = None, full_horizon: bool = True) -> RunResult:
    """Run ``scenario`` with ``seed`` (default: the scenario's) to its horizon.

    With ``full_horizon=False`` the run ends as soon as the incident is over (recovered and
    the responder done): the metrics are the same, the series stop early. Sweeps use it.
    A scenario with a ``rollout`` plan or a ``staging`` drill runs that drill instead.
    """
    if scenario.rollout is not None:  # imported on demand: its statistics load scipy.stats
        from sim.drills.rollout import run_rollout

        return run_rollout(scenario, seed)
    if scenario.staging is not None:
        from sim.drills.staging import run_staging

        return run_staging(scenario, seed)
    drill = IncidentDrill(scenario, scenario.seed if seed is None else seed, full_horizon)
    return drill.run_and_close()
