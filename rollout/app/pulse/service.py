"""The Pulse sync: the HTTP client, the entity mapping and its validators, the sync service.

``PulseContactService`` is ``pulseContactService``: the Pulse REST calls the app makes
(``GET /v1/contacts``, ``/v1/contacts/{id}``, ``/v1/account``). It never raises on an
HTTP answer and never sleeps: every call returns a ``Reply`` holding the value or a
``Failure`` saying what went wrong and whether, and after how long, to retry (a 429's
``Retry-After``; a 504's ``X-Pulse-Simulated-Latency``, the time the call hung, which a
drill charges to its clock). A 200 whose body does not parse is a ``malformed`` failure.

``EntityMapping`` says which Pulse field fills which Contacts column, and validates each
value for its column (an email looks like an email, names and free text are not emails,
no garbage sentinels, an id is present). A record whose shape is wrong (no id, a
non-string email) is *malformed*; one whose values fail a validator is a *mapping*
rejection. Neither is stored.

``PulseSyncService`` is ``pulseSyncService``. ``sync()`` is a generator of
``rollout.rollback.steps`` steps (``Wait`` for retries, back-off and hung calls) returning a
``SyncRun``: it pages from ``updated_since=<watermark>`` (inclusive; a record is skipped
when the store already holds that ``(id, updated_at)`` or newer), stores the records the
mapping accepts, then reconciles with ``/v1/account``'s ``contacts_count`` (and, after a
full listing, with the ids the store knew). ``get_sync_status()`` answers what the
runbook reads (``lastSyncAt``, ``errors``) and the counters Scenario 3's triggers need.
``enabled()`` is ``VITE_PULSE_SYNC_ENABLED``: when it reads false no call goes to Pulse,
and ``read_contacts()`` still serves the store (the UI's cached data).
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import partial
from itertools import combinations
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar

import httpx

from rollout.rollback.steps import Step, Wait

T = TypeVar("T")
SYNC_ENV = "VITE_PULSE_SYNC_ENABLED"
RETRYABLE = frozenset({"rate_limit", "api", "timeout", "transport", "malformed"})
API_KINDS = RETRYABLE | {"auth", "not_found", "invalid_request"}
Swap = tuple[str, str]


# ---- the client ---------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """Why a call failed: ``kind`` is one of ``API_KINDS``; ``latency`` the seconds it hung."""

    kind: str
    message: str
    status: int | None = None
    retry_after: float | None = None
    latency: float = 0.0

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


@dataclass(frozen=True)
class Reply(Generic[T]):
    """One call's outcome: ``value`` when it worked, else ``failure``."""

    value: T | None
    failure: Failure | None
    status: int | None
    request_id: str | None


@dataclass(frozen=True)
class Page:
    """One page of ``GET /v1/contacts``: raw records, and where the next page starts."""

    records: list[Any]
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class ConnectionCheck:
    """``testConnection()``'s answer. ``latency`` is the virtual time the call hung (a
    timed-out call), never a wall-clock measurement."""

    ok: bool
    status: int | None
    error: str | None = None
    latency: float = 0.0
    contacts_count: int | None = None
    notes: tuple[str, ...] = ()


class PulseContactService:
    """Pulse's REST API over a synchronous ``httpx.Client``; ``base_url`` with or without
    ``/v1``. ``timeout`` caps each call (and the time a hung call is charged)."""

    def __init__(self, http: httpx.Client, base_url: str, api_key: str,
                 timeout: float = 30.0) -> None:
        root = base_url.rstrip("/")
        self.http, self.timeout = http, timeout
        self.api = root if root.endswith("/v1") else root + "/v1"
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def list_contacts(self, updated_since: str | None = None, limit: int = 200,
                      cursor: str | None = None) -> Reply[Page]:
        """One page of contacts with ``updated_at >= updated_since``, or from ``cursor``."""
        params = {"limit": limit} | ({"cursor": cursor} if cursor else
                                     {"updated_since": updated_since} if updated_since else {})
        return self._get("/contacts", params, _page)

    def get_contact(self, contact_id: str) -> Reply[dict[str, Any]]:
        return self._get(f"/contacts/{contact_id}", {}, _object)

    def get_account(self) -> Reply[dict[str, Any]]:
        return self._get("/account", {}, _account)

    def test_connection(self) -> ConnectionCheck:
        """``GET /v1/account``: proves the key and reachability, reports ``contacts_count``."""
        reply = self.get_account()
        if reply.failure is not None:
            return ConnectionCheck(False, reply.status,
                                   f"{reply.failure.kind}: {reply.failure.message}",
                                   reply.failure.latency)
        account = reply.value or {}
        limits = account.get("rate_limit") or {}
        notes = (f"account {account.get('id')} ({account.get('name')}), plan "
                 f"{account.get('plan')}, API {account.get('api_version')}",
                 f"rate limit: {limits.get('remaining')} of {limits.get('limit')} left")
        return ConnectionCheck(True, reply.status, None, 0.0, account["contacts_count"], notes)

    def _get(self, path: str, params: dict[str, Any],
             parse: Callable[[Any], T]) -> Reply[T]:
        try:
            response = self.http.get(self.api + path, params=params, headers=self._headers,
                                     timeout=self.timeout)
        except httpx.TimeoutException as exc:  # real time already passed: nothing to charge
            return Reply(None, Failure("timeout", f"no answer in {self.timeout:g}s: {exc}"),
                         None, None)
        except httpx.HTTPError as exc:
            return Reply(None, Failure("transport", str(exc) or type(exc).__name__), None, None)
        request_id = response.headers.get("X-Request-Id")
        if not response.is_success:
            return Reply(None, self._failure(response), response.status_code, request_id)
        try:
            value = parse(json.loads(response.content))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            failure = Failure("malformed", f"unusable body ({len(response.content)} bytes): {exc}",
                              response.status_code)
            return Reply(None, failure, response.status_code, request_id)
        return Reply(value, None, response.status_code, request_id)

    def _failure(self, response: httpx.Response) -> Failure:
        status, headers = response.status_code, response.headers
        message = _error_message(response)
        if status == 429:
            wait = _seconds(headers.get("Retry-After"))
            return Failure("rate_limit", message, status, 1.0 if wait is None else wait)
        if status == 504:
            hung = _seconds(headers.get("X-Pulse-Simulated-Latency")) or 0.0
            return Failure("timeout", message, status, latency=min(hung, self.timeout))
        if status >= 500:
            return Failure("api", message, status, _seconds(headers.get("Retry-After")))
        kind = {401: "auth", 403: "auth", 404: "not_found"}.get(status, "invalid_request")
        return Failure(kind, message, status)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('type')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return response.text[:200] or f"HTTP {response.status_code}"


def _seconds(text: str | None) -> float | None:
    try:
        return max(0.0, float(text)) if text is not None else None
    except ValueError:  # an HTTP-date Retry-After: not worth honouring exactly
        return None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


def _page(body: Any) -> Page:
    body = _object(body)
    data, has_more, cursor = body.get("data"), body.get("has_more"), body.get("next_cursor")
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise ValueError("not a list object: 'data' must be an array, 'has_more' a boolean")
    if has_more and not (isinstance(cursor, str) and cursor):
        raise ValueError("'has_more' is true but there is no 'next_cursor'")
    return Page(data, has_more, cursor if has_more else None)


def _account(body: Any) -> dict[str, Any]:
    body = _object(body)
    count = body.get("contacts_count")
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError("the account has no integer 'contacts_count'")
    return body


# ---- the entity mapping -------------------------------------------------------------

TEXT, TIME, OBJECT = "text", "time", "object"
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE = re.compile(r"[+(\d][\d\s().\-]*(?:\s*(?:x|ext\.?)\s*\d+)?")
_NAME_PUNCTUATION = frozenset(" '’-.")
_SENTINELS = frozenset({"null", "undefined", "nan", "none", "n/a", "#ref!", "#n/a", "#value!",
                        "#name?", "#div/0!", "#null!", "#num!", "[object object]"})


def is_email(value: Any) -> bool:
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def is_text(value: Any) -> bool:
    """Free text (company, title): no email, no replacement character, no sentinel."""
    return (isinstance(value, str) and not is_email(value.strip()) and "\ufffd" not in value
            and value.strip().lower() not in _SENTINELS)


def is_name(value: Any) -> bool:
    """A person's name: letters, spaces and ' - . only, with at least one letter."""
    return (isinstance(value, str) and any(c.isalpha() for c in value)
            and all(c.isalpha() or c in _NAME_PUNCTUATION for c in value.strip()))


def is_phone(value: Any) -> bool:
    digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
    return (isinstance(value, str) and _PHONE.fullmatch(value.strip()) is not None
            and 7 <= len(digits) <= 20 and set(digits) != {"0"})


def is_identifier(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and not any(c.isspace() for c in value)


def _anything(_: Any) -> bool:
    return True


@dataclass(frozen=True)
class Column:
    """One Contacts column: the Pulse field it reads, its shape, its value check."""

    source: str
    check: Callable[[Any], bool] = _anything
    kind: str = TEXT
    required: bool = False


@dataclass(frozen=True)
class Mapped:
    """A record through the mapping: the row, shape problems, columns failing validation."""

    row: dict[str, Any]
    malformed: tuple[str, ...]
    invalid: tuple[str, ...]


@dataclass(frozen=True)
class EntityMapping:
    """Contacts column → Pulse field, with validators. ``key`` identifies a contact,
    ``stamp`` orders its versions (Pulse's ``updated_at``)."""

    columns: Mapping[str, Column]
    key: str = "id"
    stamp: str = "updated_at"

    def source_of(self, column: str) -> str:
        return self.columns[column].source

    @property
    def swappable(self) -> tuple[str, ...]:
        """The value columns a drifted mapping can swap (text, not the key)."""
        return tuple(sorted(n for n, c in self.columns.items() if c.kind == TEXT and n != self.key
                            and c.source != self.columns[self.key].source))

    def swapped(self, pairs: tuple[Swap, ...] | list[Swap]) -> EntityMapping:
        """This mapping with the sources of each pair of columns exchanged."""
        columns = dict(self.columns)
        for a, b in pairs:
            columns[a], columns[b] = (replace(columns[a], source=columns[b].source),
                                      replace(columns[b], source=columns[a].source))
        return replace(self, columns=MappingProxyType(columns))

    def map(self, record: Any) -> Mapped:
        """The Contacts row of a Pulse record, with what is wrong with it."""
        if not isinstance(record, dict):
            return Mapped({}, (f"record: expected an object, got {type(record).__name__}",), ())
        row: dict[str, Any] = {}
        malformed, invalid = [], []
        for name, column in self.columns.items():
            value = record.get(column.source)
            problem = _shape_problem(column, value)
            if problem:
                malformed.append(f"{name} (from {column.source}): {problem}")
                continue
            row[name] = value
            if value not in (None, "") and not column.check(value):
                invalid.append(name)
        return Mapped(row, tuple(malformed), tuple(invalid))

    def explaining_swaps(self, row: Mapping[str, Any],
                         invalid: tuple[str, ...]) -> tuple[Swap, ...]:
        """Pairs of failing columns that both validate once their values are exchanged."""
        pairs: list[Swap] = []
        covered: set[str] = set()
        for a, b in combinations(sorted(c for c in invalid if c in self.swappable), 2):
            if not covered & {a, b} and self._fits(a, row.get(b)) and self._fits(b, row.get(a)):
                pairs.append((a, b))
                covered |= {a, b}
        return tuple(pairs)

    def stored_swaps(self, row: Mapping[str, Any], stored: Mapping[str, Any]) -> tuple[Swap, ...]:
        """Pairs of columns whose incoming values are the stored values, exchanged."""
        held = [c for c in self.swappable if stored.get(c) not in (None, "")]
        return tuple((a, b) for a, b in combinations(held, 2)
                     if stored[a] != stored[b] and row.get(a) == stored[b]
                     and row.get(b) == stored[a])

    def _fits(self, column: str, value: Any) -> bool:
        return isinstance(value, str) and bool(value) and self.columns[column].check(value)


def _shape_problem(column: Column, value: Any) -> str | None:
    if value is None or value == "":
        return "missing" if column.required else None
    if column.kind == OBJECT:
        return None if isinstance(value, dict) else \
            f"expected an object, got {type(value).__name__}"
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if column.kind == TIME and parse_time(value) is None:
        return "not an ISO-8601 timestamp"
    return None


def parse_time(text: Any) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (UTC when no zone), or None."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


DEFAULT_MAPPING = EntityMapping(MappingProxyType({
    "id": Column("id", is_identifier, required=True),
    "pulse_id": Column("id", is_identifier, required=True),
    "first_name": Column("first_name", is_name),
    "last_name": Column("last_name", is_name),
    "email": Column("email", is_email, required=True),
    "phone": Column("phone", is_phone),
    "company": Column("company", is_text),
    "title": Column("title", is_text),
    "pulse_owner_id": Column("owner_id", is_identifier),
    "pulse_custom_fields": Column("custom_fields", kind=OBJECT),
    "created_at": Column("created_at", kind=TIME),
    "updated_at": Column("updated_at", kind=TIME, required=True),
}))
"""The Contacts columns (``rollout.app.db`` plus the Pulse migrations) a Pulse contact fills."""


# ---- the store ------------------------------------------------------------------------

class ContactStore(Protocol):
    """Where synced contacts live: rows of mapping columns keyed by the mapping's key."""

    def upsert(self, contact: dict[str, Any]) -> None: ...

    def get(self, contact_id: str) -> dict[str, Any] | None: ...

    def all_ids(self) -> set[str]: ...


class InMemoryContactStore:
    """A ``ContactStore`` in a dict, with ``snapshot``/``restore`` for backups in tests."""

    def __init__(self, key: str = "id") -> None:
        self.key = key
        self.rows: dict[str, dict[str, Any]] = {}

    def upsert(self, contact: dict[str, Any]) -> None:
        self.rows[contact[self.key]] = dict(contact)

    def get(self, contact_id: str) -> dict[str, Any] | None:
        row = self.rows.get(contact_id)
        return None if row is None else dict(row)

    def all_ids(self) -> set[str]:
        return set(self.rows)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.rows.items()}

    def restore(self, snapshot: Mapping[str, Mapping[str, Any]]) -> None:
        self.rows = {k: dict(v) for k, v in snapshot.items()}


def env_enabled(env: Mapping[str, str], name: str = SYNC_ENV) -> Callable[[], bool]:
    """``enabled`` read from an env mapping: on unless the value is exactly ``'false'``."""
    return lambda: env.get(name) != "false"


# ---- the sync service -----------------------------------------------------------------

@dataclass(frozen=True)
class SyncError:
    """One thing that went wrong: a failed call (``API_KINDS``), a rejected record
    (``malformed_record``, ``mapping``) or ``missing`` contacts; ``where`` locates it."""

    kind: str
    at: float
    detail: str
    contact_id: str | None = None
    where: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A record the mapping refused, still open until a later version of it is stored.

    ``fields``: columns malformed or failing validation; ``swaps``: pairs of columns
    whose values look exchanged (by the validators or against the stored row);
    ``unexplained``: failing columns no swap accounts for; ``overwrites``: those of them
    whose stored value was valid. Values are never kept (no personal data in logs).
    """

    contact_id: str | None
    kind: str
    at: float
    updated_at: str | None
    fields: tuple[str, ...]
    swaps: tuple[Swap, ...] = ()
    unexplained: tuple[str, ...] = ()
    overwrites: tuple[str, ...] = ()
    where: str | None = None


@dataclass
class SyncRun:
    """One pass of ``sync()``: what it listed, stored and rejected, and how it ended."""

    full: bool
    since: str | None
    ok: bool = False
    skipped: bool = False
    stopped: str | None = None
    aborted: SyncError | None = None
    pages: int = 0
    requests: int = 0
    failed_requests: int = 0
    seen: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
    nameless: int = 0
    watermark: str | None = None
    listed: set[str] = field(default_factory=set, repr=False)
    floors: list[str] = field(default_factory=list, repr=False)
    newest: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for private in ("listed", "floors", "newest"):
            out.pop(private)
        return out


@dataclass(frozen=True)
class SyncStatus:
    """``getSyncStatus()``. ``last_sync_at`` is when (``now()``) a pass last completed;
    ``watermark`` the Pulse ``updated_at`` the next incremental pass lists from.
    ``failure_rate`` is over the last ``window_attempts`` calls; ``rejections`` are the
    open ones; ``missing`` counts contacts Pulse holds that the sync cannot see."""

    enabled: bool
    last_sync_at: float | None
    watermark: str | None
    errors: tuple[SyncError, ...]
    attempts: int
    failures: int
    window_attempts: int
    window_failures: int
    failure_rate: float
    records_seen: int
    records_stored: int
    records_rejected: int
    missing: int
    missing_ids: tuple[str, ...]
    rejections: tuple[Rejection, ...]
    contacts_count: int | None
    stored_count: int
    last_run: SyncRun | None

    def summary(self) -> dict[str, Any]:
        """The counters, JSON-ready, with errors counted by kind (for a journal)."""
        kinds: dict[str, int] = {}
        for error in self.errors:
            kinds[error.kind] = kinds.get(error.kind, 0) + 1
        skip = {"errors", "rejections", "last_run", "missing_ids"}
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        return out | {"errors_by_kind": kinds, "open_rejections": len(self.rejections),
                      "missing_ids": list(self.missing_ids[:20])}


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
