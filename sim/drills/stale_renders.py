"""Stale renders after recovery, as every drill reports them.

Once the fix is served (the fresh ``/flags`` answer no longer serves the faulty page),
a returning user whose posthog-js persisted the old answer still renders the faulty
page at their next load under ``flag.client.reads: render`` (``sim.world.flag_client``).
Those loads are impact (``sim.results.impact``); the drills journal them and state them
among the run's facts the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.journal import Journal
from sim.world.page_loads import TrafficStats


def journal_stale_renders(journal: Journal, stats: TrafficStats) -> None:
    """Journal the run's stale faulty loads after recovery, when there were any."""
    if stats.stale_faulty_after_recovery:  # returning users' persisted flags
        journal.add("stale_renders_after_recovery", loads=stats.stale_faulty_after_recovery,
                    last_at=stats.last_stale_faulty_at,
                    reason="page loads that rendered the faulty page from the flags "
                           "posthog-js had persisted, after the fix was served")


def stale_facts(stats: TrafficStats, pending: np.ndarray | None) -> dict[str, Any]:
    """The run's facts about stale renders: faulty loads after recovery, the last one,
    and the users whose next load would still render the faulty page (``pending``)."""
    return {"stale_faulty_loads_after_recovery": stats.stale_faulty_after_recovery,
            "last_stale_faulty_load_s": stats.last_stale_faulty_at,
            "stale_faulty_users_at_end": 0 if pending is None
            else int(np.count_nonzero(pending))}
