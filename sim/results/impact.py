"""What the incident cost users: affected users and user-minutes of impact.

A user is **impacted** when, between the fault's onset and recovery, a visit of theirs
was served the faulty page or got nothing because the app was down (stopped, or no
healthy container); or when, after recovery, a load rendered the faulty page from the
flag their browser persisted — within the run, or drawn to happen after the run's end
but within the window (``users_stale_after_run``, one faulty load each).
``affected_users_pct`` = users impacted ÷ users active over the window
``[onset, onset + traffic.affected_window)`` (default 24 h; see ``sim.world.activity``
for how the window's active users are counted), × 100. The
denominator is the day's users, not the incident's, so the figure grows with the
incident's length instead of restating the exposure.

**User-minutes of impact** = impacted visits × ``traffic.visit_duration`` / 60 (default
5 min a visit, a default: state yours), split into the faulty page's and the
downtime's. No runbook target: it is reported under ``impact`` in ``summary.json``,
never as a metric.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sim.scenario.model import Scenario
from sim.world.activity import window_bounds
from sim.world.page_loads import TrafficStats


@dataclass(frozen=True)
class Impact:
    """The incident's impact on users, counted over the affected-users window."""

    window_start_s: float
    window_end_s: float
    users_active_in_window: int
    users_impacted: int
    users_served_faulty: int
    users_visited_down: int
    users_stale_after_run: int  # drawn to render the faulty page from a stale flag after it
    faulty_visits: int
    down_visits: int
    visit_duration_s: float

    @property
    def pct(self) -> float | None:
        """Users impacted ÷ users active in the window, × 100 (None: nobody active)."""
        if self.users_active_in_window == 0:
            return None
        return round(100.0 * self.users_impacted / self.users_active_in_window, 3)

    def user_minutes(self, visits: int) -> float:
        return round(visits * self.visit_duration_s / 60.0, 3)

    def as_dict(self) -> dict[str, Any]:
        """The ``impact`` section of ``summary.json``."""
        faulty, down = self.user_minutes(self.faulty_visits), self.user_minutes(self.down_visits)
        return {**asdict(self), "affected_users_pct": self.pct,
                "user_minutes": round(faulty + down, 3), "user_minutes_faulty": faulty,
                "user_minutes_down": down}


def impact_of(scenario: Scenario, stats: TrafficStats, onset: float | None) -> Impact | None:
    """The run's impact, or None when no fault began or the window was not counted."""
    if onset is None or stats.active_in_window is None or stats.served_faulty is None:
        return None
    faulty = stats.served_faulty
    down = stats.served_down if stats.served_down is not None else faulty & False
    later = stats.stale_after_run if stats.stale_after_run is not None else faulty & False
    start, end = window_bounds(scenario, onset, stats)
    return Impact(window_start_s=round(start, 3), window_end_s=round(end, 3),
                  users_active_in_window=int(stats.active_in_window.sum()),
                  users_impacted=int((faulty | down | later).sum()),
                  users_served_faulty=int(faulty.sum()), users_visited_down=int(down.sum()),
                  users_stale_after_run=int(later.sum()),
                  faulty_visits=stats.faulty_pageviews + int(later.sum()),
                  down_visits=stats.down_visits,
                  visit_duration_s=scenario.traffic.visit_duration)
