"""Repeat incidents in the rollout drill: the incident's Sentry issue coming back after the fix.

The first NO-GO's rollback identifies the incident's issue (the most frequent one new
since the phase began). Once the fix release is live, every look asks Sentry whether
that issue has events from the fix release: each such episode is one repeat incident,
counted once (an episode ends when nobody is served the faulty page any more; events
after that start the next one). ``RepeatWatch`` keeps the issue and the episodes and
measures ``repeat_incidents`` against its target.
"""

from __future__ import annotations

from typing import Any

from sim.drills.rollout_gates import GateReader
from sim.journal import Journal
from sim.results.metrics import Measure
from sim.scenario.rollout import FixPlan


class RepeatWatch:
    """The incident's issue, when the fix went live, and the repeat episodes since."""

    def __init__(self, reader: GateReader, fix: FixPlan | None, journal: Journal) -> None:
        self.reader = reader
        self.fix = fix
        self.journal = journal
        self.issue: dict[str, Any] | None = None
        self.fix_since: float | None = None
        self.since = 0.0  # Sentry events of the issue after this are a new episode
        self.episodes: list[dict[str, Any]] = []

    def identify(self, since: float, now: float) -> None:
        """Find the incident's issue (once): the most frequent one new since ``since``."""
        if self.issue is not None:
            return
        self.issue = self.reader.incident_issue(since, now)
        if self.issue is not None:
            self.journal.add("incident_issue", issue=self.issue["shortId"],
                             title=self.issue["title"], culprit=self.issue["culprit"])

    def episode_over(self, t: float) -> None:
        """Nobody is served the faulty page any more: the open episode ends at ``t``."""
        if self.episodes:
            self.episodes[-1]["closed"], self.since = True, t

    def check(self, now: float, exposure_pct: float | None) -> str | None:
        """After the fix: the issue and its title when it has events from the fix release
        since the fix (or the last episode's end); a new episode is journaled."""
        fix = self.fix
        if self.issue is None or self.fix_since is None or fix is None:
            return None
        since = max(self.fix_since, self.since)
        if now <= since or not self.reader.recurred(self.issue["id"], fix.release, since, now):
            return None
        if not self.episodes or self.episodes[-1]["closed"]:
            self.episodes.append({"t_s": round(now, 3), "issue": self.issue["shortId"],
                                  "release": fix.release, "exposure_pct": exposure_pct,
                                  "closed": False})
            self.journal.add("repeat_incident", issue=self.issue["shortId"],
                             release=fix.release, exposure_pct=exposure_pct)
        return f"{self.issue['shortId']} ({self.issue['title']})"

    def measure(self, target: int) -> Measure:
        """``repeat_incidents``: the episodes, or why there is nothing to count (journaled)."""
        if self.fix is None:
            repeat = Measure("repeat_incidents", None, target, "not_measured",
                             "this rollout has no fix and re-rollout phase")
        elif self.fix_since is None:
            repeat = Measure("repeat_incidents", None, target, "not_measured",
                             "no fix was re-rolled out (the rollout never rolled back, or "
                             "the fix did not deploy)")
        else:
            n = len(self.episodes)
            repeat = Measure("repeat_incidents", n, target, "pass" if n <= target else "fail")
        if repeat.value is None:
            self.journal.add("metric_unavailable", metric="repeat_incidents",
                             reason=repeat.reason)
        return repeat

    def section(self) -> list[dict[str, Any]]:
        """The episodes as the report lists them."""
        return [{k: v for k, v in r.items() if k != "closed"} for r in self.episodes]
