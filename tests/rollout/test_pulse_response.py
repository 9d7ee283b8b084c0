"""Scenario 3 (``rollout.app.pulse.response``): triggers, diagnosis and the response procedure,
against the fake Pulse with each of its data and transport faults."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rollout.app.pulse.response import (
    Scenario3Actions,
    diagnose,
    respond_to_sync_issue,
    scenario3_triggered,
)
from rollout.app.pulse.sync import SYNC_ENV
from rollout.steps import Manual, Wait


def _load_harness() -> Any:
    # The Drill harness lives in test_pulse.py; with --import-mode=importlib a test
    # folder is not a package, so it is loaded by path (as conftest.py loads conftest_pg).
    spec = importlib.util.spec_from_file_location(
        "rollout_tests_pulse_harness", Path(__file__).with_name("test_pulse.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()
Drill, SIZE, HOUR = harness.Drill, harness.SIZE, harness.HOUR


class Responder:
    """The callables a responder has, recording each call; sync flips the drill's env."""

    def __init__(self, drill: Any) -> None:
        self.drill = drill
        self.calls: list[str] = []
        self.backup = drill.store.snapshot()

    def actions(self) -> Scenario3Actions:
        return Scenario3Actions(self._env("false", "disable_sync"),
                                self._env("true", "enable_sync"),
                                self._record("use_mock_data"), self._record("full_rollback"),
                                self._restore)

    def _env(self, value: str, name: str) -> Any:
        def act() -> str:
            self.calls.append(name)
            self.drill.env[SYNC_ENV] = value
            return value
        return act

    def _record(self, name: str) -> Any:
        def act() -> str:
            self.calls.append(name)
            return f"{name} done"
        return act

    def _restore(self) -> dict[str, int]:
        self.calls.append("restore_database")
        self.drill.store.restore(self.backup)
        return {"restored": len(self.backup)}


@pytest.fixture
def drill() -> Iterator[Any]:
    world = Drill()
    world.run(world.sync.sync())  # a healthy first sync: the store holds every contact
    yield world
    world.close()


def respond(drill: Any, responder: Responder, **options: Any) -> tuple[dict[str, Any], list]:
    return drill.run(respond_to_sync_issue(drill.sync, drill.client, responder.actions(),
                                           **options))


def manual(steps: list) -> list[str]:
    return [s.what for s in steps if isinstance(s, Manual)]


def test_5xx_on_60_percent_of_calls_triggers_scenario3_and_takes_the_api_branch(
        drill: Any) -> None:
    drill.backend.set_fault("error_rate", rate=0.6)
    for _ in range(6):  # the automatic sync every 5 minutes
        drill.clock.advance(300)
        drill.run(drill.sync.sync())
    status = drill.sync.get_sync_status()
    triggered, reasons = scenario3_triggered(status)
    assert status.failure_rate > 0.5 and status.window_attempts == 20
    assert triggered and any(r.startswith("sync failures") for r in reasons)

    responder = Responder(drill)
    facts, steps = respond(drill, responder)
    assert facts["branch"] == "api" and facts["triggered"]
    assert responder.calls == ["disable_sync", "use_mock_data"]
    assert facts["actions"] == ["disable_sync", "use_mock_data", "contact_pulse"]
    assert manual(steps)[0] == f"set {SYNC_ENV}=false"
    assert any("contact the Pulse team" in m for m in manual(steps))
    assert any("calls to Pulse failed" in r for r in facts["reasons"])
    assert facts["request_ids"] and all(i.startswith("req_") for i in facts["request_ids"])


def test_a_mis_mapping_is_fixed_by_swapping_the_columns_back_and_the_sync_stores_the_truth(
        drill: Any) -> None:
    drill.backend.set_fault("mis_mapped")  # first_name<->email, company<->title
    drill.clock.advance(2 * HOUR)
    run, _ = drill.run(drill.sync.sync())
    assert run.rejected > 0 and run.stored == 0
    triggered, reasons = scenario3_triggered(drill.sync.get_sync_status())
    assert triggered and reasons[0].startswith("data inconsistencies")
    diagnosis = diagnose(drill.sync.get_sync_status(), drill.client.test_connection())
    assert diagnosis.kind == "mapping"
    assert diagnosis.swaps == (("company", "title"), ("email", "first_name"))

    responder = Responder(drill)
    facts, _ = respond(drill, responder)
    assert facts["branch"] == "mapping" and facts["resolved"]
    assert responder.calls == ["disable_sync", "enable_sync"]
    assert facts["actions"] == ["disable_sync", "fix_mapping", "enable_sync", "sync"]
    assert facts["resync"]["ok"] and facts["resync"]["stored"] == run.rejected
    assert drill.sync.mapping.source_of("email") == "first_name"
    for contact_id in drill.backend.contact_ids():  # mis-mapping still on at Pulse
        assert drill.store.get(contact_id) == drill.truth_row(contact_id)


def test_corruption_is_diagnosed_and_answered_by_rollback_and_restore_with_no_garbage_stored(
        drill: Any) -> None:
    responder = Responder(drill)  # its backup: the store before the fault
    drill.backend.set_fault("corruption", rate=0.25, spread=60.0)
    drill.clock.advance(120)
    run, _ = drill.run(drill.sync.sync())
    corrupted = {i for e in drill.backend.injected_faults("corruption") for i in e.detail["ids"]}
    assert corrupted and run.rejected == len(corrupted) and run.stored == 0
    assert all(drill.store.get(i) == responder.backup[i] for i in corrupted)  # validators held
    assert scenario3_triggered(drill.sync.get_sync_status())[0]

    facts, steps = respond(drill, responder)
    assert facts["branch"] == "corruption" and set(facts["corrupted"]) == corrupted
    assert responder.calls == ["disable_sync", "full_rollback", "restore_database"]
    assert facts["restore"] == {"restored": SIZE}
    assert "overwritten values the store holds as valid" in " ".join(facts["reasons"])
    assert drill.store.snapshot() == responder.backup
    assert drill.sync.watermark is None  # the next sync is a full one over the restored data
    assert [m for m in manual(steps) if "rollback" in m or "restore" in m] == [
        "full rollback of the Contacts redesign",
        "restore the database from the last good backup"]


def test_a_timed_out_connection_test_is_an_api_issue_charged_its_hung_time(drill: Any) -> None:
    drill.backend.set_fault("timeout", seconds=30.0)
    drill.clock.advance(300)
    run, _ = drill.run(drill.sync.sync())
    assert not run.ok and run.aborted.kind == "timeout"
    facts, steps = respond(drill, Responder(drill))
    assert facts["branch"] == "api" and not facts["connection"]["ok"]
    assert Wait(30.0, "testConnection() hung until it timed out") in steps


def test_missing_contacts_trigger_scenario3(drill: Any) -> None:
    drill.backend.set_fault("missing", rate=0.05)
    drill.run(drill.sync.sync(full=True))
    triggered, reasons = scenario3_triggered(drill.sync.get_sync_status())
    assert triggered and reasons == [reasons[0]] and reasons[0].startswith("missing contact")


def test_the_response_waits_until_the_disabled_sync_is_live(drill: Any) -> None:
    """A Vite env var changes nothing before a new build: investigate only once it has."""
    build = 95.0
    changed_at: list[float] = []
    drill.sync.enabled = lambda: not changed_at or drill.clock.now() < changed_at[0] + build
    actions = Responder(drill).actions()

    def disable() -> Any:  # the env var change itself is a procedure: a dashboard edit
        yield Manual("open Vercel → Settings → Environment Variables")
        changed_at.append(drill.clock.now())
        return "redeploy queued"

    facts, steps = drill.run(respond_to_sync_issue(
        drill.sync, drill.client, replace(actions, disable_sync=disable), poll=10.0))
    assert facts["disable_sync"] == "redeploy queued"
    assert facts["sync_stopped_after_s"] == 100.0  # polled every 10 s past the 95 s build
    assert "open Vercel → Settings → Environment Variables" in manual(steps)
    assert facts["branch"] == "healthy" and not facts["resolved"]


def test_one_failed_call_is_an_api_error_but_not_a_failure_rate(drill: Any) -> None:
    drill.backend.set_fault("error_rate", rate=1.0, statuses=[500], end=drill.clock.now() + 1)
    drill.sync.retries = 0
    drill.run(drill.sync.sync())
    status = drill.sync.get_sync_status()
    triggered, reasons = scenario3_triggered(status)
    assert triggered and len(reasons) == 1 and reasons[0].startswith("Pulse API errors")
    assert status.window_failures == 1


def test_a_lucky_last_pass_does_not_hide_the_failed_calls_in_the_sync_log(drill: Any) -> None:
    """Rule: the diagnosis reads ``syncStatus.errors`` as the runbook's investigation
    does: an intermittent outage whose latest pass succeeded, with the recent failure rate
    under 50 %, is still an API issue."""
    drill.backend.set_fault("error_rate", rate=1.0, statuses=[502], end=drill.clock.now() + 1)
    drill.sync.retries = 0
    drill.run(drill.sync.sync())  # fails: one 502
    for _ in range(4):  # then four clean passes: the window's failure rate drops
        drill.clock.advance(300)
        drill.run(drill.sync.sync())
    status = drill.sync.get_sync_status()
    assert status.failure_rate <= 0.5 and status.last_run is not None
    assert status.last_run.aborted is None
    diagnosis = diagnose(status, drill.client.test_connection())
    assert diagnosis.kind == "api"
    assert any("sync log holds 1 failed calls" in r for r in diagnosis.reasons)


def test_a_healthy_sync_is_diagnosed_healthy_and_triggers_nothing(drill: Any) -> None:
    status = drill.sync.get_sync_status()
    assert scenario3_triggered(status) == (False, [])
    assert diagnose(status, drill.client.test_connection()).kind == "healthy"


def test_corruption_wins_over_a_concurrent_mis_mapping(drill: Any) -> None:
    drill.backend.set_fault("mis_mapped")
    drill.backend.set_fault("corruption", rate=0.25, spread=60.0)
    drill.clock.advance(120)
    drill.run(drill.sync.sync())
    diagnosis = diagnose(drill.sync.get_sync_status(), drill.client.test_connection())
    assert diagnosis.kind == "corruption"
