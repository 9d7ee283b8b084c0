"""Affected users that measure the incident, and user-minutes of impact.

``affected_users_pct`` = users impacted (served the faulty page, or visited while the app
was down) ÷ users active over ``[onset, onset + traffic.affected_window)``; user-minutes
= impacted visits × ``traffic.visit_duration``. The window's active users are the
incident's marks plus the rest of the window drawn from the traffic model's rates
(``sim.world.activity``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np
import pytest

from sim.drills.run import run_drill
from sim.errors import ScenarioError
from sim.results.writer import summary
from sim.rng import Streams
from sim.scenario.loader import load_default, load_scenario
from sim.scenario.model import Scenario
from sim.world.activity import expected_visits, mark_window
from sim.world.page_loads import TrafficStats
from sim.world.population import build_population
from sim.world.traffic import TrafficModel

Load = Callable[..., Scenario]
SEEDS = (1, 2, 3, 4)
FAST = ("population.users=5000", "horizon=3h", "faults.0.at=1h",
        "monitoring.alert.threshold=12")


def test_expected_visits_is_the_integral_of_the_tick_rate() -> None:
    """The closed form equals the traffic model's rate summed over one-second steps, over
    a span that crosses the daily peak."""
    s = load_default(["population.users=1000"])
    pop = build_population(np.random.default_rng(0), 1000, 5, 1.0)
    model = TrafficModel(s, pop, np.random.default_rng(0), np.random.default_rng(1))
    t0, t1 = 1800.0, 1800.0 + 9 * 3600
    numeric = sum(model.rate(t + 0.5) for t in np.arange(t0, t1, 1.0))
    assert expected_visits(s, pop, t0, t1) == pytest.approx(numeric, rel=1e-6)
    day = expected_visits(s, pop, 0.0, 86400.0)
    assert day == pytest.approx(1000 * s.traffic.visits_per_user_per_day, rel=1e-9)


def test_window_keeps_the_incident_marks_and_draws_the_rest_at_the_model_rate() -> None:
    """Everyone marked active in the incident is active in the window; with equal
    activity, the share of the others drawn active is 1 − exp(−visits per user)."""
    s = load_default(["population.users=200000", "population.activity_sigma=0"])
    pop = build_population(np.random.default_rng(1), 200_000, 0, 0.0)
    stats = TrafficStats(1)
    stats.active_in_incident = np.zeros(pop.size, dtype=bool)
    stats.active_in_incident[:500] = True
    stats.marked_until = 7200.0 + 600.0
    mark_window(s, pop, stats, 7200.0, np.random.default_rng(2))
    assert stats.active_in_window is not None and stats.active_in_window[:500].all()
    per_user = expected_visits(s, pop, 7800.0, 7200.0 + 86400.0) / pop.size
    share = stats.active_in_window[500:].mean()
    assert share == pytest.approx(1 - np.exp(-per_user), abs=0.005)


def test_window_extends_to_an_incident_longer_than_it() -> None:
    """An incident that outlasts the window widens it to the incident: nobody impacted
    is left out of the denominator, and nothing is drawn after it."""
    s = load_default(["traffic.affected_window=10m"])
    pop = build_population(np.random.default_rng(1), 1000, 0, 1.0)
    stats = TrafficStats(1)
    stats.active_in_incident = np.zeros(pop.size, dtype=bool)
    stats.active_in_incident[::3] = True
    stats.marked_until = 7200.0 + 3600.0
    mark_window(s, pop, stats, 7200.0, np.random.default_rng(2))
    assert stats.active_in_window is not None
    assert (stats.active_in_window == stats.active_in_incident).all()


def test_affected_users_do_not_restate_the_exposure() -> None:
    """At a 10 % rollout a flag-disable incident of a few minutes impacts a small share of
    the day's users (the old measure, ÷ the incident's users, gave ≈ 10 %). The app
    subscribes to flag changes here, so no stale render after recovery adds to either
    measure: the rule is about the denominator alone."""
    doc = summary(run_drill(load_default([*FAST, "flag.client.reads=subscribe"]), 7,
                            full_horizon=False))
    impact, facts = doc["impact"], doc["facts"]
    old_measure = 100 * facts["users_served_faulty"] / facts["users_active_in_incident"]
    assert 5 < old_measure < 15
    assert doc["metrics"]["affected_users_pct"] < old_measure / 3
    assert impact["users_active_in_window"] > 2 * facts["users_active_in_incident"]
    assert impact["user_minutes"] == pytest.approx(
        impact["faulty_visits"] * impact["visit_duration_s"] / 60)


def runs(decision_delay: str, reads: str) -> dict[int, dict[str, Any]]:
    """The summaries of SEEDS, shortened, with this decision delay and flag read."""
    overrides = [*FAST, f"responder.decision_delay={decision_delay}",
                 f"flag.client.reads={reads}"]
    return {seed: summary(run_drill(load_default(overrides), seed, full_horizon=False))
            for seed in SEEDS}


def test_a_slower_responder_raises_affected_users_at_the_same_exposure() -> None:
    """Same seeds, same 10 % exposure, a decision 10 s vs 20 min after the
    acknowledgement, in an app that subscribes to flag changes: the slower responder
    affects more users and costs more user-minutes, on every seed."""
    fast, slow = runs("10s", "subscribe"), runs("20m", "subscribe")
    for seed in SEEDS:
        assert fast[seed]["facts"]["fault_onset_s"] == slow[seed]["facts"]["fault_onset_s"]
        assert slow[seed]["metrics"]["affected_users_pct"] > \
            fast[seed]["metrics"]["affected_users_pct"]
        assert slow[seed]["impact"]["user_minutes"] > fast[seed]["impact"]["user_minutes"]
    assert mean(d["metrics"]["affected_users_pct"] for d in slow.values()) > \
        2 * mean(d["metrics"]["affected_users_pct"] for d in fast.values())


def test_with_render_time_reads_the_stale_renders_bound_affected_users_from_below() -> None:
    """In an app that reads the flag only while rendering (the runbook's code), every
    user whose browser persisted the flag ON gets the faulty page at their next load
    however fast the rollback: a faster responder still costs fewer user-minutes, but
    affected users differ far less than with a subscribing app."""
    fast, slow = runs("10s", "render"), runs("20m", "render")
    sub_fast, sub_slow = runs("10s", "subscribe"), runs("20m", "subscribe")
    for seed in SEEDS:
        assert slow[seed]["impact"]["user_minutes"] > fast[seed]["impact"]["user_minutes"]
        assert fast[seed]["metrics"]["affected_users_pct"] > \
            sub_fast[seed]["metrics"]["affected_users_pct"]
    spread = mean(slow[s]["metrics"]["affected_users_pct"] /
                  fast[s]["metrics"]["affected_users_pct"] for s in SEEDS)
    sub_spread = mean(sub_slow[s]["metrics"]["affected_users_pct"] /
                      sub_fast[s]["metrics"]["affected_users_pct"] for s in SEEDS)
    assert spread < sub_spread


def test_a_shortened_run_counts_the_same_impact() -> None:
    """A sweep's run, ended once the incident is over, counts the same window and impact
    as the full run (the rest of the window is drawn, not simulated)."""
    s = load_default(list(FAST))
    full, short = summary(run_drill(s, 5)), summary(run_drill(s, 5, full_horizon=False))
    assert short["impact"] == full["impact"]


def test_no_fault_means_no_impact() -> None:
    """Without a fault nothing is impacted: ``impact`` is null, affected not measured."""
    doc = summary(run_drill(load_default(["faults=[]", "horizon=30m"]), 1))
    assert doc["impact"] is None
    assert doc["status"]["affected_users_pct"] == "not_measured"


@pytest.mark.parametrize("field", ["affected_window", "visit_duration"])
def test_a_window_or_visit_of_zero_is_bad_input(tmp_path: Path, field: str) -> None:
    """``traffic.affected_window`` and ``traffic.visit_duration`` must be > 0."""
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: t\ntraffic: {{{field}: 0}}\n")
    with pytest.raises(ScenarioError, match=rf"traffic\.{field}.*greater than 0"):
        load_scenario(path)


def test_streams_for_the_window_are_their_own() -> None:
    """The window's draw uses its own stream: adding it moves no other draw."""
    a, b = Streams(9), Streams(9)
    a.get("traffic.window").random(10)
    assert a.get("traffic").random() == b.get("traffic").random()
