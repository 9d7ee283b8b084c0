"""The Pulse sync service the app runs: ``PulseSyncService`` (``pulseSyncService``).

``sync()`` is a generator of ``rollout.steps`` steps (``Wait`` for retries,
back-off and hung calls) returning a ``SyncRun``: it pages from
``updated_since=<watermark>`` (inclusive; a record is skipped when the store already holds
that ``(id, updated_at)`` or newer), stores the records the mapping accepts, then
reconciles with ``/v1/account``'s ``contacts_count`` (and, after a full listing, with the
ids the store knew). ``get_sync_status()`` answers what the runbook reads (``lastSyncAt``,
``errors``) and the counters Scenario 3's triggers need. ``enabled()`` is
``VITE_PULSE_SYNC_ENABLED`` (``env_enabled``): when it reads false no call goes to Pulse,
and ``read_contacts()`` still serves the store (the UI's cached data).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from functools import partial
from typing import Any, TypeVar

from rollout.app.pulse.client import PulseContactService, Reply
from rollout.app.pulse.mapping import EntityMapping, Mapped, is_identifier, parse_time
from rollout.app.pulse.status import Rejection, SyncError, SyncRun, SyncStatus
from rollout.app.pulse.store import ContactStore
from rollout.steps import Step, Wait

T = TypeVar("T")
SYNC_ENV = "VITE_PULSE_SYNC_ENABLED"


def env_enabled(env: Mapping[str, str], name: str = SYNC_ENV) -> Callable[[], bool]:
    """``enabled`` read from an env mapping: on unless the value is exactly ``'false'``."""
    return lambda: env.get(name) != "false"


class PulseSyncService:
    """Pulls Pulse contacts into ``store`` through ``mapping`` while ``enabled()``.

    ``now`` stamps errors and ``last_sync_at`` (a drill passes its clock); ``retries``
    is how many times one call is retried (429: after ``Retry-After``; other retryable
    failures: after ``backoff`` · 2^n seconds, at most ``max_backoff``, or the server's
    ``Retry-After``); ``window`` is how many recent calls ``failure_rate`` covers.
    """

    def __init__(self, contacts_service: PulseContactService, store: ContactStore,
                 mapping: EntityMapping, enabled: Callable[[], bool], *,
                 now: Callable[[], float] = time.time, page_size: int = 200, retries: int = 3,
                 backoff: float = 2.0, max_backoff: float = 60.0, window: int = 20,
                 keep_errors: int = 1000) -> None:
        self.contacts, self.store, self.mapping, self.enabled = (contacts_service, store,
                                                                 mapping, enabled)
        self.now, self.page_size, self.retries = now, page_size, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.watermark: str | None = None
        self.last_sync_at: float | None = None
        self.last_run: SyncRun | None = None
        self.contacts_count: int | None = None
        self.attempts = self.failures = 0
        self.records_seen = self.records_stored = self.records_rejected = 0
        self._window: deque[bool] = deque(maxlen=window)
        self._errors: deque[SyncError] = deque(maxlen=keep_errors)
        self._open: dict[str, Rejection] = {}
        self._vanished: set[str] = set()
        self._gap = 0

    # ---- what the app and the runbook call ------------------------------------------

    def is_enabled(self) -> bool:
        return bool(self.enabled())

    def set_mapping(self, mapping: EntityMapping) -> None:
        """Use a corrected mapping from the next record on."""
        self.mapping = mapping

    def rewind(self) -> None:
        """Forget the watermark and open rejections (after a database restore): the next
        pass lists everything and compares it with the store as it now is."""
        self.watermark = None
        self._open.clear()

    def read_contacts(self) -> list[dict[str, Any]]:
        """Every stored contact, by id: the UI's cached data, sync enabled or not."""
        rows = (self.store.get(i) for i in sorted(self.store.all_ids()))
        return [row for row in rows if row is not None]

    def get_sync_status(self) -> SyncStatus:
        window_failures = sum(not ok for ok in self._window)
        return SyncStatus(
            self.is_enabled(), self.last_sync_at, self.watermark, tuple(self._errors),
            self.attempts, self.failures, len(self._window), window_failures,
            window_failures / len(self._window) if self._window else 0.0,
            self.records_seen, self.records_stored, self.records_rejected,
            self._gap + len(self._vanished), tuple(sorted(self._vanished)),
            tuple(self._open.values()), self.contacts_count, len(self.store.all_ids()),
            self.last_run)

    def sync(self, full: bool = False) -> Generator[Step, None, SyncRun]:
        """One pass; ``full`` (or no watermark yet) lists everything and looks for
        contacts that vanished from the listing. Does nothing while sync is disabled."""
        full = full or self.watermark is None
        run = SyncRun(full, None if full else self.watermark)
        if not self.is_enabled():
            run.skipped, run.stopped = True, f"{SYNC_ENV} is false"
        elif (yield from self._list(run)):
            yield from self._reconcile(run)
            run.ok = run.aborted is None
            self.last_sync_at = self.now() if run.ok else self.last_sync_at
        run.watermark = self.watermark
        self.last_run = run
        return run

    # ---- one pass ---------------------------------------------------------------------

    def _list(self, run: SyncRun) -> Generator[Step, None, bool]:
        """Page through the listing; True when the last page was reached."""
        cursor: str | None = None
        while True:
            if not self.is_enabled():
                run.stopped = f"{SYNC_ENV} turned false mid-pass"
                return False
            where = (f"page {run.pages + 1} of GET /v1/contacts (updated_since="
                     f"{run.since or '-'}, cursor={cursor or '-'})")
            call = partial(self.contacts.list_contacts, run.since, self.page_size, cursor)
            reply = yield from self._call(call, where, run)
            if reply.value is None:
                return False
            run.pages += 1
            for position, record in enumerate(reply.value.records, 1):
                self._ingest(record, run, f"{where}, record {position}")
            self._advance_watermark(run)
            if not reply.value.has_more:
                return True
            cursor = reply.value.next_cursor

    def _reconcile(self, run: SyncRun) -> Generator[Step, None, None]:
        """Compare with what Pulse says it holds, and (full pass) with what we held."""
        reply = yield from self._call(self.contacts.get_account, "GET /v1/account", run)
        if reply.value is None:
            return
        count = self.contacts_count = int(reply.value["contacts_count"])
        known = self.store.all_ids()
        if run.full:
            vanished = known - run.listed
            for contact_id in sorted(vanished - self._vanished):
                self._error("missing", "stored contact absent from a full listing",
                            contact_id=contact_id, where="full listing of GET /v1/contacts")
            self._vanished = vanished
        # contacts Pulse holds that are neither stored nor listed-but-rejected
        gap = max(0, count - len(known | set(self._open)) - run.nameless)
        if gap and gap != self._gap:
            self._error("missing", f"Pulse holds {count} contacts; the sync has seen only "
                                   f"{count - gap}", where="GET /v1/account")
        self._gap = gap

    def _call(self, request: Callable[[], Reply[T]], where: str,
              run: SyncRun) -> Generator[Step, None, Reply[T]]:
        """``request()``, retried as its failures allow; each attempt is counted."""
        attempt = 0
        while True:
            reply = request()
            self._count(reply, where, run)
            failure = reply.failure
            if failure is None:
                return reply
            if failure.latency > 0:
                yield Wait(failure.latency, f"{where} hung {failure.latency:g}s, then "
                                            f"{failure.status}")
            if not failure.retryable or attempt >= self.retries:
                run.aborted = self._errors[-1]
                return reply
            attempt += 1
            delay = failure.retry_after if failure.retry_after is not None else \
                min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            yield Wait(delay, f"retry {attempt}/{self.retries} of {where} after {failure.kind}")

    def _count(self, reply: Reply[Any], where: str, run: SyncRun) -> None:
        ok = reply.failure is None
        self.attempts += 1
        run.requests += 1
        self._window.append(ok)
        if reply.failure is not None:
            self.failures += 1
            run.failed_requests += 1
            status = f" ({reply.failure.status})" if reply.failure.status else ""
            self._error(reply.failure.kind, reply.failure.message + status, where=where,
                        request_id=reply.request_id)

    # ---- records ----------------------------------------------------------------------

    def _ingest(self, record: Any, run: SyncRun, where: str) -> None:
        run.seen += 1
        self.records_seen += 1
        mapped = self.mapping.map(record)
        contact_id, stamp = self._identify(record, mapped, run)
        previous = self.store.get(contact_id) if contact_id is not None else None
        if stamp is not None and previous is not None and \
                _not_after(stamp, previous.get(self.mapping.stamp)):
            run.unchanged += 1  # we hold this version or a newer one: skip, even if garbled
            self._close(contact_id, stamp)
        elif mapped.malformed or mapped.invalid or stamp is None:
            self._reject(contact_id, stamp, mapped, previous, run, where)
        else:
            self.store.upsert(mapped.row)
            run.stored += 1
            self.records_stored += 1
            self._close(contact_id, stamp)

    def _identify(self, record: Any, mapped: Mapped,
                  run: SyncRun) -> tuple[str | None, str | None]:
        """The record's id (even when the mapping refused it) and ``updated_at``."""
        contact_id, stamp = mapped.row.get(self.mapping.key), mapped.row.get(self.mapping.stamp)
        if contact_id is None and isinstance(record, dict) and is_identifier(record.get("id")):
            contact_id = record["id"]
        if contact_id is not None:
            run.listed.add(contact_id)
        if stamp is not None:
            run.newest = _later(run.newest, stamp)
        return contact_id, stamp

    def _reject(self, contact_id: str | None, stamp: str | None, mapped: Mapped,
                previous: dict[str, Any] | None, run: SyncRun, where: str) -> None:
        rejection = self._rejection(contact_id, stamp, mapped, previous, where)
        if contact_id is not None:
            self._open[contact_id] = rejection
        else:
            run.nameless += 1
        if stamp is not None:
            run.floors.append(stamp)
        run.rejected += 1
        self.records_rejected += 1
        detail = "; ".join(mapped.malformed) if mapped.malformed else \
            "fails validation: " + ", ".join(mapped.invalid) + \
            "".join(f"; looks swapped: {a}<->{b}" for a, b in rejection.swaps)
        self._error(rejection.kind, detail, contact_id=contact_id, where=where)

    def _rejection(self, contact_id: str | None, stamp: str | None, mapped: Mapped,
                   previous: dict[str, Any] | None, where: str) -> Rejection:
        if mapped.malformed:
            fields = tuple(m.split(" ", 1)[0] for m in mapped.malformed)
            return Rejection(contact_id, "malformed_record", self.now(), stamp, fields,
                             where=where)
        explained = self.mapping.explaining_swaps(mapped.row, mapped.invalid)
        stored = self.mapping.stored_swaps(mapped.row, previous) if previous else ()
        covered = {c for pair in explained for c in pair}
        unexplained = tuple(c for c in mapped.invalid if c not in covered)
        overwrites = tuple(c for c in unexplained if previous is not None
                           and previous.get(c) not in (None, "")
                           and self.mapping.columns[c].check(previous[c]))
        return Rejection(contact_id, "mapping", self.now(), stamp, mapped.invalid,
                         tuple(sorted(set(explained) | set(stored))), unexplained, overwrites,
                         where)

    def _close(self, contact_id: str | None, stamp: str) -> None:
        """A version at ``stamp`` is held: an open rejection of an older one is obsolete."""
        open_ = self._open.get(contact_id) if contact_id is not None else None
        if open_ is not None and (open_.updated_at is None or _not_after(open_.updated_at, stamp)):
            del self._open[open_.contact_id]  # type: ignore[arg-type]
        if contact_id is not None:
            self._vanished.discard(contact_id)

    def _advance_watermark(self, run: SyncRun) -> None:
        """Up to the newest record listed, but never past an open rejection: the next
        pass lists it again, so a fixed mapping or a repaired record gets it stored."""
        mark = _later(self.watermark, run.newest) if run.newest else self.watermark
        for floor in [*run.floors, *(r.updated_at for r in self._open.values() if r.updated_at)]:
            if mark is None or _not_after(floor, mark):
                mark = floor
        self.watermark = mark

    def _error(self, kind: str, detail: str, **where: Any) -> None:
        self._errors.append(SyncError(kind, self.now(), detail, **where))


def _not_after(a: str, b: Any) -> bool:
    """``a <= b`` as timestamps (False when ``b`` is not one)."""
    ta, tb = parse_time(a), parse_time(b)
    return ta is not None and tb is not None and ta <= tb


def _later(a: str | None, b: str) -> str:
    return b if a is None or not _not_after(b, a) else a
