"""Repeat incidents of the rollout drill (``sim.drills.rollout_repeats``): the incident's
issue coming back on the fix release, one count per episode."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import simpy

from sim.drills.rollout_gates import GateReader
from sim.drills.rollout_repeats import RepeatWatch
from sim.journal import Journal
from sim.scenario.rollout import FixPlan
from sim.world.clock import SimClock

ISSUE = {"id": "1", "shortId": "CONTACTS-1", "title": "TypeError", "culprit": "ContactsPageNew"}


class Sentry:
    """A gate reader whose incident issue is ISSUE, recurring on every look."""

    def incident_issue(self, since: float, now: float) -> dict[str, Any]:
        return ISSUE

    def recurred(self, issue_id: str, release: str, since: float, now: float) -> bool:
        return True


def watch() -> RepeatWatch:
    journal = Journal(SimClock(simpy.Environment(), datetime(2026, 1, 1, tzinfo=UTC)))
    return RepeatWatch(cast(GateReader, Sentry()), FixPlan(), journal)


def test_an_episode_counts_once_until_nobody_is_served_the_faulty_page() -> None:
    """Looks during one episode add nothing; after it ends, the next recurrence is a new one."""
    repeats = watch()
    repeats.identify(0.0, 10.0)
    repeats.fix_since = 100.0
    assert [repeats.check(t, 10.0) for t in (200.0, 300.0)] == ["CONTACTS-1 (TypeError)"] * 2
    repeats.episode_over(350.0)
    repeats.check(400.0, 50.0)
    assert [e["t_s"] for e in repeats.section()] == [200.0, 400.0]
    assert repeats.measure(target=0).value == 2


def test_nothing_recurs_before_the_fix_is_live() -> None:
    """Before the fix deploys, the issue's events are the first incident, not a repeat."""
    repeats = watch()
    repeats.identify(0.0, 10.0)
    assert repeats.check(200.0, 10.0) is None
    measure = repeats.measure(target=0)
    assert measure.value is None and measure.status == "not_measured"
    assert repeats.journal.first("metric_unavailable") is not None
