"""The rollout drills' traffic follows the browser clients as the incident traffic does:
posthog-js's persisted flag answers a load's first render (``flag.client.reads``), the
later page views read the fresh answer, @sentry/browser sends one session per page load,
and stale faulty renders after the rollback are impact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fakes.common.serving import LiveBuild
from rollout.release.flags import FlagEnv
from sim.drills.rollout import RolloutDrill
from sim.drills.rollout_traffic import NEW, OLD, RolloutTraffic
from sim.results.writer import summary
from sim.scenario.faults import ErrorSpike
from sim.scenario.model import Scenario, required_section
from sim.world.population import build_population
from sim.world.served import ServedState

Load = Callable[..., Scenario]
BUILD = LiveBuild("dpl_new", "2.0.0", True, FlagEnv("false", "0"))
USERS = 400
# rollout-slow-page (the PostHog flag's way) made a fast page with a crash on day 1 at
# 100 %: the phase-3 check rolls it back by setting the flag to 0 %
CRASH_AT_FULL = ("traffic.latency_new.median_ms=800", "traffic.latency_new.sigma=0.4",
                 "flag.env.VITE_FEATURE_CONTACTS_REDESIGN='false'", "horizon=4d",
                 "rollout.phases=[{name: full, exposure: 100, gate: phase3, duration: 48h, "
                 "look_every: 2h}]",
                 "faults=[{kind: error_spike, at: 1d, error_rate: 0.02, crash: true}]")


def flag_at(on: bool) -> ServedState:
    """Everyone's /flags answer is ``on``, under a build that reads the PostHog flag."""
    remote = np.full(USERS, int(on), dtype=np.int8)
    return ServedState(("flag", on), BUILD, remote == 1, float(on), remote)


def traffic(scenario: Load, *overrides: str) -> RolloutTraffic:
    s = scenario("rollout-slow-page", "traffic.visits_per_user_per_day=200", *overrides)
    pop = build_population(np.random.default_rng(1), USERS, 0, 0.0)
    return RolloutTraffic(s, required_section(s, "rollout"), pop, np.random.default_rng(2),
                          np.random.default_rng(3), rows=10)


class SessionsSeen:
    """Stands in for the Sentry backend: keeps the session aggregates it is given."""

    def __init__(self) -> None:
        self.sessions: list[dict[str, int]] = []

    def record_session_aggregates(self, release: str, environment: str, started: float,
                                  **counts: int) -> None:
        self.sessions.append(counts)

    def record_error_events(self, *args: Any, **kwargs: Any) -> None:
        pass


class EventsSeen:
    def record_events(self, event: str, count: int, at: float) -> None:
        pass


@pytest.mark.parametrize(("reads", "first_new"), [("render", True), ("subscribe", False)])
def test_first_render_after_the_flag_went_to_zero_shows_the_persisted_variant_under_render(
        scenario: Load, reads: str, first_new: bool) -> None:
    """Rule: after the flag moved from 100 % to 0 %, a load's first page view shows the
    persisted ON (the new page) under ``reads: render`` and the fresh OFF under
    ``subscribe``; its later page views show the fresh OFF either way, and the page views
    per variant (what PostHog and the gates count) follow."""
    t = traffic(scenario, f"flag.client.reads={reads}")
    t.draw(0, 3600, "2.0.0", flag_at(True), (None, None))
    d = t.draw(3600, 7200, "2.0.0", flag_at(False), (None, None))
    assert d.visitors.size > 50
    assert d.first.tolist() == [first_new] * d.visitors.size
    assert not d.fresh.any()
    assert d.pageviews[NEW] == (d.visitors.size if first_new else 0)
    assert d.pageviews[OLD] == int(d.views.sum()) - d.pageviews[NEW]
    again = t.draw(7200, 10800, "2.0.0", flag_at(False), (None, None))
    returning = np.isin(again.visitors, d.visitors)
    assert not again.first[returning].any()  # the fresh OFF was persisted at the last load


def test_a_visit_is_exposed_to_the_variant_of_its_first_view(scenario: Load) -> None:
    """Rule: posthog-js's ``$feature_flag_called`` answers the value the first render read,
    so a person first seen at a stale load is exposed to the persisted variant."""
    t = traffic(scenario, "flag.client.reads=render")
    t.draw(0, 3600, "2.0.0", flag_at(True), (None, None))
    t.store.start_experiment(3600)
    d = t.draw(3600, 7200, "2.0.0", flag_at(False), (None, None))
    t.record(d, EventsSeen(), SessionsSeen(), "production", 0.0, False)  # type: ignore[arg-type]
    assert (t.store.people.variant[d.visitors] == NEW).all()


def crash_draw(scenario: Load, sdk: str) -> tuple[Any, list[dict[str, int]]]:
    t = traffic(scenario, f"monitoring.sdk={sdk}")
    crash = ErrorSpike(kind="error_spike", at=0, error_rate=0.2, crash=True)
    d = t.draw(0, 3600, "2.0.0", flag_at(True), (None, crash))
    seen = SessionsSeen()
    t.record(d, EventsSeen(), seen, "production", 1.0, True)  # type: ignore[arg-type]
    return d, seen.sessions


def test_browser_sessions_are_one_per_visit_errored_never_crashed(scenario: Load) -> None:
    """Rule: @sentry/browser sends one session per page load, errored when a page view of
    the visit erred, and an unhandled error (a crash fault) never crashes it."""
    d, sessions = crash_draw(scenario, "browser")
    assert len(sessions) == 1
    s = sessions[0]
    assert s["exited"] + s["errored"] + s["crashed"] == d.visitors.size
    assert s["crashed"] == 0 and s["errored"] == d.errored_visits
    assert 0 < d.errored_visits <= min(d.visitors.size, sum(d.errors))


def test_server_sessions_are_one_per_page_view_and_crash_faults_crash(scenario: Load) -> None:
    """Rule: the server SDK's request-mode aggregates count one session per page view,
    crashed by a crash fault's errors."""
    d, sessions = crash_draw(scenario, "server")
    s = sessions[0]
    assert s["exited"] + s["errored"] + s["crashed"] == sum(d.pageviews)
    assert s["crashed"] == d.crashed > 0


def sessions_seen(scenario: Load, *overrides: str) -> tuple[RolloutDrill, int]:
    """A rollout-phase3-crash drill, and the sessions Sentry's sessions API holds at its end."""
    d = RolloutDrill(scenario("rollout-phase3-crash", *overrides), 14)
    try:
        d.run()
        body = d.reader.sentry.call("/sessions/", field="sum(session)", statsPeriod="30d",
                                    interval="1d", environment=d.s.monitoring.environment)
    finally:
        d.world.close()
    return d, sum(int(g["totals"]["sum(session)"] or 0) for g in body["groups"])


@pytest.mark.parametrize(("sdk", "per"), [("browser", "visits"), ("server", "pageviews")])
def test_phase_three_reads_the_sessions_the_sdk_sent(scenario: Load, sdk: str,
                                                     per: str) -> None:
    """Rule: the phase-3 gate's error rate is Sentry's release health, whose sessions are
    the visits under the browser SDK and the page views under the server SDK; the crash
    at 100 % is rolled back under both."""
    d, seen = sessions_seen(scenario, f"monitoring.sdk={sdk}")
    series = d.traffic.stats.series
    assert seen == int(series[f"{per}_old"].sum() + series[f"{per}_new"].sum())
    assert d.outcome["rollout"] == "rolled back"


def rolled_back(scenario: Load, reads: str) -> dict[str, Any]:
    return summary(RolloutDrill(scenario("rollout-slow-page", *CRASH_AT_FULL,
                                         f"flag.client.reads={reads}"), 13).run_and_close())


def test_stale_renders_after_a_rollback_to_zero_are_impact_under_render_reads(
        scenario: Load) -> None:
    """Rule: after the phase-3 rollback sets the flag to 0 %, users who persisted ON render
    the faulty page once at their next load under ``reads: render`` — impact, counted
    within the affected-users window — and none under ``subscribe``; recovery is declared
    when the fresh answer stops serving the faulty page, the same instant either way."""
    render, subscribe = rolled_back(scenario, "render"), rolled_back(scenario, "subscribe")
    assert render["facts"]["stale_faulty_users_at_end"] > 0
    assert render["impact"]["users_stale_after_run"] > 0
    assert subscribe["facts"]["stale_faulty_users_at_end"] == 0
    assert subscribe["impact"]["users_stale_after_run"] == 0
    assert render["metrics"]["affected_users_pct"] > 10 * subscribe["metrics"][
        "affected_users_pct"]
    assert render["metrics"]["time_to_rollback_s"] == subscribe["metrics"]["time_to_rollback_s"]
    assert render["timeline"]["recovered_s"] is not None


def test_a_rollout_through_the_vercel_env_renders_nothing_stale(scenario: Load) -> None:
    """Rule: a percentage-mode build reads no PostHog flag, so no load renders a persisted
    answer and ``reads`` changes nothing: the same summary under render and subscribe."""
    def run(reads: str) -> dict[str, Any]:
        return summary(RolloutDrill(scenario("rollout-error-regression",
                                             f"flag.client.reads={reads}"), 12).run_and_close())

    render, subscribe = run("render"), run("subscribe")
    assert render["facts"]["users_flipped"] == subscribe["facts"]["users_flipped"]
    assert render["gates"] == subscribe["gates"]
