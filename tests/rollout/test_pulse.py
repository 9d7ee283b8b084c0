"""The Pulse sync (``rollout.app.pulse``) against the fake Pulse, served in-process.

Each test builds a ``Drill``: a seeded fake Pulse on a ``ManualClock``, the real client
and sync service talking to it over ``sim.world.transport.InProcessTransport``. Procedures are
driven by hand: each ``Wait`` advances the clock by its length.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.pulse.backend import DEFAULT_API_KEY, PulseBackend
from fakes.pulse.ratelimit import RateLimit
from fakes.pulse.router import build_app
from rollout.app.pulse.client import PulseContactService
from rollout.app.pulse.mapping import (
    DEFAULT_MAPPING,
    is_email,
    is_name,
    is_phone,
    is_text,
    parse_time,
)
from rollout.app.pulse.store import InMemoryContactStore
from rollout.app.pulse.sync import SYNC_ENV, PulseSyncService, env_enabled
from rollout.steps import Manual, Step, Wait
from sim.world.transport import InProcessTransport

SEED, SIZE = 7, 240
HOUR = 3600.0


class Drill:
    """A fake Pulse on a manual clock, and the real client and sync service over HTTP."""

    def __init__(self, size: int = SIZE, **sync_options: Any) -> None:
        self.clock = ManualClock()
        self.backend = PulseBackend(self.clock, SEED, contacts=size,
                                    rate_limit=RateLimit(1_000_000, 1_000_000.0))
        self.transport = InProcessTransport({"pulse.test": build_app(self.backend)})
        self.http = httpx.Client(transport=self.transport)
        self.env = {SYNC_ENV: "true"}
        self.client = PulseContactService(self.http, "http://pulse.test", DEFAULT_API_KEY)
        self.store = InMemoryContactStore()
        self.sync = PulseSyncService(self.client, self.store, DEFAULT_MAPPING,
                                     env_enabled(self.env), now=self.clock.now, **sync_options)

    def run(self, procedure: Generator[Step, None, Any]) -> tuple[Any, list[Step]]:
        """Drive ``procedure``: a Wait advances the clock, a Manual step takes no time."""
        steps: list[Step] = []
        try:
            step = next(procedure)
            while True:
                steps.append(step)
                if isinstance(step, Wait):
                    self.clock.advance(step.seconds)
                step = procedure.send(None)
        except StopIteration as stop:
            return stop.value, steps

    def requests(self) -> dict[str, int]:
        return dict(self.backend.state()["requests"])

    def truth_row(self, contact_id: str) -> dict[str, Any]:
        return DEFAULT_MAPPING.map(self.backend.truth(contact_id).to_json(self.clock)).row

    def close(self) -> None:
        self.http.close()
        self.transport.close()


@pytest.fixture
def drill() -> Iterator[Drill]:
    world = Drill()
    yield world
    world.close()


def waits(steps: list[Step]) -> list[Wait]:
    return [s for s in steps if isinstance(s, Wait)]


# ---- the healthy path ------------------------------------------------------------------

def test_a_healthy_sync_pulls_every_contact_once_then_only_the_changes(drill: Drill) -> None:
    first, steps = drill.run(drill.sync.sync())
    assert first.ok and first.full and steps == []
    assert (first.seen, first.stored, first.rejected) == (SIZE, SIZE, 0)
    assert drill.requests() == {"list_contacts": 2, "get_account": 1}  # 200 + 40, then count
    assert all(drill.store.get(i) == drill.truth_row(i) for i in drill.backend.contact_ids())

    watermark = drill.sync.watermark
    drill.clock.advance(2 * HOUR)
    listed = drill.backend.contact_ids(updated_since=watermark)
    changed = [i for i in listed
               if parse_time(drill.backend.truth(i).to_json(drill.clock)["updated_at"])
               > parse_time(watermark)]
    second, _ = drill.run(drill.sync.sync())
    assert second.ok and not second.full and second.since == watermark
    assert 0 < len(changed) < SIZE // 4
    assert (second.seen, second.stored) == (len(listed), len(changed))
    assert second.unchanged == len(listed) - len(changed)  # the inclusive boundary, deduped
    assert all(drill.store.get(i) == drill.truth_row(i) for i in changed)
    status = drill.sync.get_sync_status()
    assert status.last_sync_at == 2 * HOUR and status.errors == () and status.missing == 0


def test_the_validators_accept_every_contact_of_a_healthy_directory() -> None:
    world = Drill(size=1500)
    try:
        run, _ = world.run(world.sync.sync())
    finally:
        world.close()
    assert (run.stored, run.rejected) == (1500, 0)


def test_the_validators_tell_names_emails_phones_and_garbage_apart() -> None:
    assert is_email("ada.lovelace@analytical.com") and not is_email("Ada")
    assert not is_email("#@%&?@@Ã0") and not is_email(None)
    assert is_name("O'Connor-Smith") and not is_name("ada@analytical.com")
    assert not is_name("Ã#4&?Â") and not is_name("\ufffd\ufffd")
    assert is_phone("(555)123-4567x89") and is_phone("+1-555-123-4567")
    assert not is_phone("NaN") and not is_phone("0000000000")
    assert is_text("Koch, Bush and Morales") and is_text("Engineer, civil (contracting)")
    assert not is_text("#REF!") and not is_text("null") and not is_text("a@b.com")


def test_a_swapped_mapping_reads_each_column_from_the_other_field() -> None:
    fixed = DEFAULT_MAPPING.swapped([("email", "first_name")])
    assert fixed.source_of("email") == "first_name"
    assert fixed.source_of("first_name") == "email"
    assert fixed.source_of("last_name") == "last_name"
    assert DEFAULT_MAPPING.source_of("email") == "email"  # the original is untouched


# ---- Pulse misbehaving ---------------------------------------------------------------

def test_a_429_yields_a_wait_of_its_retry_after_then_the_call_succeeds(drill: Drill) -> None:
    drill.backend.set_fault("rate_limit", limit=2, per_second=0.25)
    run, steps = drill.run(drill.sync.sync())
    assert run.ok and run.stored == SIZE
    assert [(w.seconds, "rate_limit" in w.why) for w in waits(steps)] == [(4.0, True)]
    assert drill.requests() == {"list_contacts": 2, "get_account": 2}  # one refused
    errors = drill.sync.get_sync_status().errors
    assert [(e.kind, e.where) for e in errors] == [("rate_limit", "GET /v1/account")]


def test_a_timed_out_call_is_charged_its_hung_time_before_the_retry(drill: Drill) -> None:
    drill.backend.set_fault("timeout", seconds=20.0, end=10.0)
    run, steps = drill.run(drill.sync.sync())
    assert run.ok and run.stored == SIZE
    assert [w.seconds for w in waits(steps)] == [20.0, 2.0]  # hung, then back-off
    assert drill.sync.get_sync_status().errors[0].kind == "timeout"


def test_a_truncated_page_is_a_failed_page_and_nothing_stored_is_lost(drill: Drill) -> None:
    drill.run(drill.sync.sync())
    before, watermark = drill.store.snapshot(), drill.sync.watermark
    drill.backend.set_fault("malformed", rate=0.0, truncate_rate=1.0)
    drill.clock.advance(2 * HOUR)
    run, steps = drill.run(drill.sync.sync())
    assert not run.ok and run.pages == 0 and run.failed_requests == 4  # 1 try + 3 retries
    assert run.aborted is not None and run.aborted.kind == "malformed"
    assert "page 1 of GET /v1/contacts" in (run.aborted.where or "")
    assert f"updated_since={watermark}" in (run.aborted.where or "")
    assert "unusable body" in run.aborted.detail and run.aborted.request_id
    assert drill.store.snapshot() == before and drill.sync.watermark == watermark
    assert len(waits(steps)) == 3

    drill.backend.clear_faults()
    again, _ = drill.run(drill.sync.sync())
    assert again.ok and again.stored > 0
    assert all(drill.store.get(i) == drill.truth_row(i) for i in drill.backend.contact_ids())


def test_a_failure_mid_pass_keeps_the_pages_before_it(drill: Drill,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sync = PulseSyncService(drill.client, drill.store, DEFAULT_MAPPING, lambda: True,
                            now=drill.clock.now, page_size=50, retries=0)
    pages = {"n": 0}
    real = drill.client.list_contacts

    def list_then_fail(*args: Any) -> Any:  # Pulse starts failing on the third page
        pages["n"] += 1
        if pages["n"] == 3:
            drill.backend.set_fault("error_rate", statuses=[500], ops=["list_contacts"])
        return real(*args)

    monkeypatch.setattr(drill.client, "list_contacts", list_then_fail)
    run, _ = drill.run(sync.sync())
    assert not run.ok and run.pages == 2 and run.stored == 100
    assert run.aborted is not None and run.aborted.kind == "api"
    assert "page 3" in (run.aborted.where or "")
    assert len(drill.store.all_ids()) == 100
    newest = max(row["updated_at"] for row in drill.sync.read_contacts())
    assert sync.watermark == newest  # the next pass resumes after what was stored


def test_malformed_records_are_rejected_and_stored_once_pulse_sends_them_whole(
        drill: Drill) -> None:
    drill.backend.set_fault("malformed", rate=0.3, end=1.0)
    run, _ = drill.run(drill.sync.sync())
    status = drill.sync.get_sync_status()
    assert run.rejected > 0 and run.stored + run.rejected == SIZE
    assert {r.kind for r in status.rejections} == {"malformed_record"}
    assert {e.kind for e in status.errors} >= {"malformed_record"}
    assert all("record" in (e.where or "") for e in status.errors)
    broken = drill.backend.injected_faults("malformed")[0].detail
    assert not set(broken["ids"]) & drill.store.all_ids()  # none of them stored

    drill.clock.advance(HOUR)  # the fault has ended
    again, _ = drill.run(drill.sync.sync())
    assert again.ok and again.rejected == 0
    assert drill.store.all_ids() == set(drill.backend.contact_ids())
    assert drill.sync.get_sync_status().rejections == ()


def test_missing_contacts_are_reported_by_count_and_by_id(drill: Drill) -> None:
    drill.run(drill.sync.sync())
    drill.backend.set_fault("missing", rate=0.1)
    run, _ = drill.run(drill.sync.sync(full=True))
    hidden = {i for e in drill.backend.injected_faults("missing") for i in e.detail["ids"]}
    status = drill.sync.get_sync_status()
    assert run.ok and hidden and set(status.missing_ids) == hidden
    assert status.missing == len(hidden)
    assert hidden <= drill.store.all_ids()  # vanished from Pulse's listing, kept in the store
    assert {e.contact_id for e in status.errors if e.kind == "missing"} == hidden

    fresh = Drill()
    try:
        fresh.backend.set_fault("missing", rate=0.1)
        fresh.run(fresh.sync.sync())
        status = fresh.sync.get_sync_status()
        assert status.missing == SIZE - status.stored_count > 0
        assert status.contacts_count == SIZE
    finally:
        fresh.close()


def test_an_unknown_key_fails_at_once_and_is_not_retried(drill: Drill) -> None:
    client = PulseContactService(drill.http, "http://pulse.test/v1", "not-a-key")
    check = client.test_connection()
    assert not check.ok and check.status == 401 and "authentication_error" in (check.error or "")
    sync = PulseSyncService(client, drill.store, DEFAULT_MAPPING, lambda: True)
    run, steps = drill.run(sync.sync())
    assert not run.ok and steps == [] and run.requests == 1


def test_the_connection_test_reports_the_account(drill: Drill) -> None:
    check = drill.client.test_connection()
    assert check.ok and check.status == 200 and check.contacts_count == SIZE
    assert drill.requests() == {"get_account": 1}


# ---- VITE_PULSE_SYNC_ENABLED ------------------------------------------------------------

def test_with_sync_disabled_nothing_goes_to_pulse_and_the_ui_reads_the_cache(
        drill: Drill) -> None:
    drill.run(drill.sync.sync())
    cached = drill.sync.read_contacts()
    before = drill.requests()
    drill.env[SYNC_ENV] = "false"
    drill.clock.advance(2 * HOUR)
    run, steps = drill.run(drill.sync.sync())
    assert run.skipped and not run.ok and steps == [] and run.requests == 0
    assert drill.requests() == before
    assert drill.sync.read_contacts() == cached and len(cached) == SIZE
    assert not drill.sync.get_sync_status().enabled


def test_disabling_sync_mid_pass_stops_before_the_next_page(
        drill: Drill, monkeypatch: pytest.MonkeyPatch) -> None:
    sync = PulseSyncService(drill.client, drill.store, DEFAULT_MAPPING,
                            env_enabled(drill.env), page_size=100)
    real = drill.client.list_contacts

    def list_then_disable(*args: Any) -> Any:
        drill.env[SYNC_ENV] = "false"
        return real(*args)

    monkeypatch.setattr(drill.client, "list_contacts", list_then_disable)
    run, _ = drill.run(sync.sync())
    assert run.pages == 1 and run.stored == 100 and not run.ok
    assert run.stopped is not None and "mid-pass" in run.stopped
    assert drill.requests() == {"list_contacts": 1}


def test_manual_steps_are_never_yielded_by_the_sync(drill: Drill) -> None:
    drill.backend.set_fault("error_rate", rate=0.6)
    _, steps = drill.run(drill.sync.sync())
    assert not any(isinstance(s, Manual) for s in steps)
