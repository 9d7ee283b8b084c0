"""The browser SDKs as the model follows them: posthog-js's persisted flags answer first,
@sentry/browser sends a session per page load at once (the facts recorded by
``tests/fakes/browser/test_browser_sdks.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np
import pytest

from fakes.common.serving import LiveBuild
from rollout.release.flags import REMOTE_UNDEFINED, FlagEnv, FlagMode
from sim.drills.run import run_drill
from sim.errors import ScenarioError
from sim.results.writer import summary
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario
from sim.scenario.monitoring import AlertRule, Monitoring
from sim.scenario.traffic import FlagClient
from sim.world.flag_client import FlagClients
from sim.world.monitoring import SentryPipeline
from sim.world.population import build_population
from sim.world.served import ServedState, ServedStateCache
from sim.world.traffic import TickOutcome

Load = Callable[..., Scenario]
BUILD = LiveBuild("dpl_new", "2.0.0", True, FlagEnv("true", "10"))


def state(flag_on: bool, size: int, build: LiveBuild = BUILD) -> ServedState:
    """Everyone's /flags answer is ``flag_on``; the build has the redesign."""
    remote = np.full(size, int(flag_on), dtype=np.int8)
    new = remote == 1
    return ServedState(("flag", flag_on), build, new, float(new.mean()), remote)


def clients(reads: str, size: int = 4, persisted_share: float = 1.0) -> FlagClients:
    pop = build_population(np.random.default_rng(1), size, 0, 0.0)
    spec = FlagClient(reads=reads, persisted_share=persisted_share)  # type: ignore[arg-type]
    return FlagClients(pop, spec, np.random.default_rng(2))


def test_returning_user_persisted_on_renders_the_new_page_once_after_the_flag_is_off() -> None:
    """reads=render: the first load after the flag went off renders the persisted ON
    (the new page) and persists OFF; the next load renders the old page."""
    c = clients("render")
    me = np.array([0])
    first, fresh = c.page_loads(me, state(True, 4))
    assert first.tolist() == [True] and fresh.tolist() == [True]
    first, fresh = c.page_loads(me, state(False, 4))
    assert first.tolist() == [True] and fresh.tolist() == [False]  # stale, once
    first, fresh = c.page_loads(me, state(False, 4))
    assert first.tolist() == [False] and fresh.tolist() == [False]


def test_subscribing_app_renders_the_fresh_answer_at_once() -> None:
    """reads=subscribe: the load re-renders from onFeatureFlags, so it shows the fresh
    answer (the stale flash before /flags answers is not a page view)."""
    c = clients("subscribe")
    me = np.array([0])
    c.page_loads(me, state(True, 4))
    first, fresh = c.page_loads(me, state(False, 4))
    assert first.tolist() == [False] and fresh.tolist() == [False]


def test_users_who_did_not_visit_keep_their_persisted_flag() -> None:
    """Only visitors persist the new answer; the others still hold ON at their next load
    (the browser was primed with the answer of the first load under PostHog)."""
    c = clients("render")
    c.page_loads(np.array([0]), state(True, 4))
    c.page_loads(np.array([0]), state(False, 4))
    first, _ = c.page_loads(np.array([1, 2]), state(False, 4))
    assert first.tolist() == [True, True]
    assert c.persisted.tolist() == [0, 0, 0, 1]


def test_during_an_outage_each_browser_renders_what_it_persisted() -> None:
    """No /flags answer: posthog-js keeps answering from the persisted flags, so a
    browser persisted ON shows the new page, one persisted OFF the old, one with nothing
    persisted reads undefined and gets the env flag ("true"); nothing is persisted."""
    c = clients("render", size=3)
    c.persisted[:] = [1, 0, REMOTE_UNDEFINED]
    c._primed = True
    cache = ServedStateCache(c.pop, FlagMode.REMOTE, persisted=lambda: c.persisted)
    down = cache.current(BUILD, 1, lambda: None, remote_reachable=False)
    assert down.new_page.tolist() == [True, False, True]
    first, fresh = c.page_loads(np.arange(3), down)
    assert first.tolist() == fresh.tolist() == [True, False, True]
    assert c.persisted.tolist() == [1, 0, REMOTE_UNDEFINED]


def test_persisted_share_leaves_the_other_browsers_with_nothing_persisted() -> None:
    """``persisted_share`` of the browsers hold the first answer; the rest hold nothing
    (undefined) until their own first load persists one."""
    c = clients("render", size=2000, persisted_share=0.25)
    c.page_loads(np.array([0]), state(True, 2000))
    held = float((c.persisted[1:] == 1).mean())
    assert 0.2 < held < 0.3 and set(c.persisted[1:].tolist()) == {1, REMOTE_UNDEFINED}


def test_a_build_without_the_redesign_renders_the_old_page_whatever_is_persisted() -> None:
    """A rollback to a build without the redesign needs no fresh flag answer."""
    c = clients("render")
    c.page_loads(np.array([0]), state(True, 4))
    old = LiveBuild("dpl_old", "1.9.0", False, FlagEnv("true", "10"))
    served_old = ServedState(("old",), old, np.zeros(4, dtype=bool), 0.0,
                             np.ones(4, dtype=np.int8))
    first, fresh = c.page_loads(np.array([0]), served_old)
    assert first.tolist() == [False] and fresh.tolist() == [False]


def flag_disable(scenario: Load, reads: str, seed: int = 7) -> dict[str, Any]:
    return summary(run_drill(scenario("critical-bug-flag-disable",
                                      f"flag.client.reads={reads}",
                                      "responder.mode=automated"), seed))


def test_flag_disable_leaves_stale_faulty_loads_with_render_reads_not_with_subscribe(
        scenario: Load) -> None:
    """After the PostHog flag is turned off, returning users persisted ON render the
    faulty page once (render), each counted served the faulty page; with subscribe none."""
    render, subscribe = flag_disable(scenario, "render"), flag_disable(scenario, "subscribe")
    stale = render["facts"]["stale_faulty_loads_after_recovery"]
    assert stale > 0 and render["facts"]["last_stale_faulty_load_s"] is not None
    assert subscribe["facts"]["stale_faulty_loads_after_recovery"] == 0
    assert subscribe["facts"]["stale_faulty_users_at_end"] == 0
    # each stale load is a distinct user (one per user per change), all marked served
    assert render["facts"]["users_served_faulty"] >= stale
    assert render["facts"]["users_served_faulty"] > subscribe["facts"]["users_served_faulty"]
    # the fresh answer is fixed as fast in both: the rollback time does not move
    assert render["metrics"]["time_to_rollback_s"] == subscribe["metrics"]["time_to_rollback_s"]


def test_setting_the_flag_inactive_falls_back_to_the_env_flag_for_everyone(
        scenario: Load) -> None:
    """Rule: an inactive flag is left out of /flags, posthog-js answers undefined, and the
    runbook's code falls back to VITE_FEATURE_CONTACTS_REDESIGN ("true" here): 'disable
    the flag' turns the new page on for everyone, the incident never ends, while the
    runbook's own "Set to 0%" (``zero``) ends it."""
    inactive = summary(run_drill(scenario("critical-bug-flag-disable",
                                          "responder.flag_disable_how=inactive",
                                          "responder.mode=automated"), 7))
    zero = summary(run_drill(scenario("critical-bug-flag-disable",
                                      "responder.flag_disable_how=zero",
                                      "responder.mode=automated"), 7))
    assert inactive["metrics"]["time_to_rollback_s"] is None
    assert inactive["timeline"]["recovered_s"] is None
    assert inactive["facts"]["users_served_faulty"] > 5 * zero["facts"]["users_served_faulty"]
    assert zero["metrics"]["time_to_rollback_s"] is not None


def test_stale_renders_after_the_run_count_within_the_window_whatever_the_horizon(
        scenario: Load) -> None:
    """Rule: users still holding a faulty persisted flag when the run ends render it at
    their next load; those drawn to visit before the affected-users window ends are
    impacted, so a 4 h and a 12 h run measure affected users alike (same window, same
    exposure), and the shorter run leaves more of them to the draw."""
    def affected(horizon: str) -> tuple[float, int]:
        docs = [summary(run_drill(scenario("critical-bug-flag-disable", f"horizon={horizon}",
                                           "responder.mode=automated"), seed))
                for seed in (1, 2, 3, 4)]
        return (mean(d["metrics"]["affected_users_pct"] for d in docs),
                sum(d["impact"]["users_stale_after_run"] for d in docs))
    (short, later_short), (long, later_long) = affected("4h"), affected("12h")
    assert later_short > later_long > 0
    assert abs(short - long) < 0.15 * long


def test_a_shortened_run_counts_the_stale_loads_as_the_full_run_does(scenario: Load) -> None:
    """A sweep's shortened run keeps going while browsers still hold a faulty flag, so
    its impact figures equal the full run's."""
    s = scenario("critical-bug-flag-disable", "responder.mode=automated")
    full, short = summary(run_drill(s, 3)), summary(run_drill(s, 3, full_horizon=False))
    assert short["metrics"] == full["metrics"]
    assert short["facts"]["users_served_faulty"] == full["facts"]["users_served_faulty"]
    assert short["facts"]["stale_faulty_loads_after_recovery"] == \
        full["facts"]["stale_faulty_loads_after_recovery"]


def test_a_false_positive_flag_off_still_leaves_stale_browsers_to_the_later_fault() -> None:
    """Seed 706 with a noisy threshold turns the flag off at a false alert two hours before
    the fault; browsers that persisted ON and have not loaded since render the new page,
    and the later fault, once: stale faulty loads, counted as impact."""
    path = Path(__file__).parents[2] / "scenarios" / "critical-bug-flag-disable.yaml"
    s = load_scenario(path, ("monitoring.alert.threshold=6",))
    doc = summary(run_drill(s, 706, full_horizon=False))
    assert doc["false_positive"] is not None
    assert doc["facts"]["stale_faulty_loads_after_recovery"] > 0
    assert doc["facts"]["users_served_faulty"] >= doc["facts"][
        "stale_faulty_loads_after_recovery"]


def test_same_seed_same_stale_loads(scenario: Load) -> None:
    """Determinism: the persisted flags add no randomness of their own."""
    assert flag_disable(scenario, "render", 5) == flag_disable(scenario, "render", 5)


class Backend:
    """Records what reaches the Sentry backend."""

    def __init__(self) -> None:
        self.sessions: list[tuple[Any, ...]] = []
        self.errors = 0

    def record_session_aggregates(self, release: str, env: str, started: float, *,
                                  exited: int, errored: int, crashed: int) -> None:
        self.sessions.append((started, exited, errored, crashed))

    def record_error_events(self, *args: Any, **kwargs: Any) -> None:
        self.errors += args[3]


def outcome() -> TickOutcome:
    return TickOutcome(t0=0.0, release="2.0.0", pageviews=30, errored=0, crashed=4,
                       fault_errors=4, visits=10, failed_visits=3, errored_visits=3)


def test_browser_sessions_arrive_per_page_load_without_a_flush() -> None:
    """monitoring.sdk=browser: a tick's page loads are its sessions, sent at once and
    arriving after the ingest latency; an unhandled (crash) error counts errored."""
    backend, m = Backend(), Monitoring(sdk="browser", ingest_latency=2.0)
    pipe = SentryPipeline(backend, m)
    pipe.submit(outcome(), 10.0, None)
    pipe.deliver_due(11.9)
    assert backend.sessions == []
    pipe.deliver_due(12.0)
    assert backend.sessions == [(0.0, 7, 3, 0)]


def test_server_sessions_wait_for_the_sdk_flush() -> None:
    """monitoring.sdk=server: request-mode aggregates (one per page view) leave only at
    the SDK's flush."""
    backend, m = Backend(), Monitoring(sdk="server", ingest_latency=2.0)
    pipe = SentryPipeline(backend, m)
    pipe.submit(outcome(), 10.0, None)
    pipe.deliver_due(1000.0)
    assert backend.sessions == []
    pipe.flush(60.0)
    pipe.deliver_due(62.0)
    assert backend.sessions == [(0.0, 26, 0, 4)]


def test_detection_bound_has_no_flush_term_for_browser_sessions() -> None:
    """The crash-rate bound adds the SDK flush only for the server SDK."""
    rule = AlertRule(aggregate="percentage(sessions_crashed, sessions) AS "
                     "_crash_rate_alert_aggregate", query="", time_window=1800, threshold=99,
                     threshold_type="below")
    browser = SentryPipeline(None, Monitoring(sdk="browser", alert=rule)).alert_bound()
    server = SentryPipeline(None, Monitoring(sdk="server", alert=rule)).alert_bound()
    assert server - browser == 60.0


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("flag.client.reads", "sometimes", "'render' or 'subscribe'"),
    ("monitoring.sdk", "python", "'browser' or 'server'"),
])
def test_bad_client_fields_name_what_is_allowed(tmp_path: Path, field: str, value: str,
                                                allowed: str) -> None:
    """A mistyped reads/sdk value names the file, the field and the allowed values."""
    path = Path(__file__).parents[2] / "scenarios" / "critical-bug-flag-disable.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, (f"{field}={value}",))
    assert info.value.field == field and allowed in str(info.value)
