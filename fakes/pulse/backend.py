"""The fake Pulse CRM's state: an account, its contacts, API keys, rate limits, faults.

A pure state machine over an injected clock and a seed; no HTTP here (``router.py`` is
the HTTP face). The contacts live in ``directory.ContactDirectory`` and change over
virtual time as a deterministic function of ``(seed, now)``; every public method first
calls ``_advance()`` so that the data are those of *now*, however long nobody looked.

Every API call (``list_contacts``, ``get_contact``, ``get_account``) goes through the
same steps, in the order a real edge and application would apply them: authenticate the
key (401), take a token from the key's bucket (429), the transport faults (``timeout``
then ``error_rate``), the operation itself (400, 404), then the data faults on the
records (``corruption``, ``mis_mapped``, ``malformed``; ``missing`` when listing). Each
call gets a request id; each fault that hits a call is appended to ``injected_faults()``
with its virtual time, the operation and the kind, so a drill can tell where a sync was
fed something wrong. Calls answer ``Reply`` objects (a JSON-ready body plus headers);
errors are raised as ``errors.PulseError`` carrying the request id and headers.

``seed`` and ``reset`` make runs repeat exactly: same seed, same clock readings, same
calls ⇒ the same bytes, request ids and fault log.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
from faker import Faker

from fakes.common.clock import Clock, to_iso
from fakes.pulse import payloads
from fakes.pulse.directory import MAX_CONTACTS, ContactDirectory, id_of
from fakes.pulse.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PulseError,
    RateLimited,
)
from fakes.pulse.faults import Fault
from fakes.pulse.injector import Injector
from fakes.pulse.models import (
    Call,
    Contact,
    InjectedFault,
    Reply,
    derive_seed,
    iso_ms,
    now_ms,
    parse_iso_ms,
)
from fakes.pulse.paging import Cursor, decode_cursor, encode_cursor, in_range, select_page
from fakes.pulse.ratelimit import RateLimit, TokenBucket

DEFAULT_API_KEY = "pulse_drill_key"
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class PulseBackend:
    """The fake Pulse account ``acct_drill`` and its ``contacts`` contacts.

    ``seed`` is an int or a ``numpy.random.Generator`` (one draw is taken from it);
    ``update_interval`` is the mean virtual seconds between two updates of one contact
    (a day by default: a directory of 2,000 sees about 80 updates an hour).
    """

    def __init__(self, clock: Clock, seed: int | np.random.Generator = 0, *,
                 contacts: int = 2000, api_keys: Iterable[str] = (DEFAULT_API_KEY,),
                 rate_limit: RateLimit | None = None, update_interval: float = 86_400.0,
                 account_name: str = "Logos Vision", plan: str = "growth") -> None:
        self.clock = clock
        self.api_keys = frozenset(api_keys)
        self.rate_limit = rate_limit or RateLimit()
        self.update_interval = float(update_interval)
        self.account_name, self.plan = account_name, plan
        self.seed_value = derive_seed(seed)
        self.size = int(contacts)
        self._faker = Faker("en_US")  # one instance, reseeded per contact
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget faults, the fault log, buckets and counters; data back to the seed's."""
        self.directory = ContactDirectory(self.seed_value, self.size, self.update_interval,
                                          self._faker)
        self.injector = Injector(self.seed_value, self.size)
        self._buckets: dict[str, TokenBucket] = {}
        self._requests: Counter[str] = Counter()
        self._serial = 0

    def seed(self, seed: int | np.random.Generator, contacts: int | None = None) -> None:
        """Reseed (and optionally resize) the directory, then reset; raises InvalidRequest."""
        size = self.size if contacts is None else contacts
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_CONTACTS:
            raise InvalidRequest(f"contacts must be an integer in 1..{MAX_CONTACTS}",
                                 param="contacts")
        self.seed_value, self.size = derive_seed(seed), size
        self.reset()

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state`` and for debugging a drill."""
        self._advance()
        now = self.clock.now()
        return {"now": now, "time": to_iso(self.clock), "seed": self.seed_value,
                "contacts": self.size, "update_interval": self.update_interval,
                "updates_applied": self.directory.updates_applied,
                "rate_limit": {"limit": self.rate_limit.limit,
                               "per_second": self.rate_limit.per_second},
                "buckets": {_mask(k): round(b.tokens, 3) for k, b in self._buckets.items()},
                "requests": dict(sorted(self._requests.items())),
                "faults": [f.to_json(now) for f in self.faults()],
                "injected": len(self.injector.log)}

    # ---- faults ----------------------------------------------------------------------

    def set_fault(self, kind: str, *, start: float | None = None, end: float | None = None,
                  ops: Iterable[str] | None = None, **params: Any) -> Fault:
        """Add one failure mode (see ``faults`` for kinds and params); raises InvalidRequest."""
        spec = {"kind": kind, "start": start, "end": end,
                "ops": None if ops is None else list(ops), **params}
        return self.set_faults([spec])[0]

    def set_faults(self, specs: Iterable[Mapping[str, Any]]) -> list[Fault]:
        """Add several failure modes, all or none; raises InvalidRequest on a bad spec."""
        return self.injector.add(specs, self.clock.now())

    def clear_faults(self, which: str | Iterable[str] | None = None) -> list[Fault]:
        """End now the faults named by id or kind (all when None); returns those ended.

        Ended faults stay on record: corrupted contacts are restored, stamped with the
        time the fault ended, and the fault log keeps pointing at them.
        """
        self._advance()
        return self.injector.clear(which, self.clock.now())

    def faults(self) -> list[Fault]:
        """Every fault set since the last reset, ended ones included, in order."""
        return list(self.injector.faults.values())

    def injected_faults(self, kind: str | None = None) -> list[InjectedFault]:
        """The log of faults applied to calls, oldest first; optionally of one kind."""
        return [e for e in self.injector.log if kind is None or e.kind == kind]

    # ---- the API ---------------------------------------------------------------------

    def authenticate(self, api_key: str | None) -> str:
        """The key itself when it is one of the account's; raises AuthenticationError."""
        if not api_key:
            raise AuthenticationError("No API key provided. Send 'Authorization: Bearer "
                                      "<key>' or 'X-Pulse-Api-Key: <key>'.")
        if api_key not in self.api_keys:
            raise AuthenticationError(f"Invalid API key provided: {_mask(api_key)}")
        return api_key

    def list_contacts(self, api_key: str | None, updated_since: str | None = None,
                      limit: int | str | None = None, cursor: str | None = None) -> Reply:
        """A page of contacts ordered by ``(updated_at, id)``, ``updated_at >= since``.

        ``cursor`` (from a previous page) carries the query, so ``updated_since`` is
        ignored beside one. Raises AuthenticationError, RateLimited, InvalidRequest
        (limit outside 1..200, bad timestamp, a cursor this API did not write), and
        whatever fault is active.
        """
        with self._call("list_contacts", api_key) as call:
            size = _page_size(limit)
            since, after = self._list_query(updated_since, cursor)
            updated = self.injector.updated_ms(call, self.directory.updated_ms)
            hidden = self.injector.hidden(call)
            rows, has_more = select_page(updated, in_range(updated, since, after, None)
                                         & ~hidden.any(axis=0), size)
            upto = (int(updated[rows[-1]]), rows[-1]) if has_more else None
            self.injector.log_missing(call, hidden, in_range(updated, since, after, upto))
            nxt = encode_cursor(Cursor(since, *upto)) if upto else None
            return self._reply(call, payloads.page(self._render(call, rows, updated),
                                                   has_more, nxt))

    def get_contact(self, api_key: str | None, contact_id: str) -> Reply:
        """One contact by id, listed or not; raises NotFound, and as ``list_contacts``."""
        with self._call("get_contact", api_key) as call:
            index = self.directory.index_of(contact_id)
            if index is None:
                raise NotFound(f"No such contact: '{contact_id}'", param="id")
            updated = self.injector.updated_ms(call, self.directory.updated_ms)
            return self._reply(call, self._render(call, [index], updated)[0])

    def get_account(self, api_key: str | None) -> Reply:
        """The account the key belongs to: what ``testConnection()`` calls."""
        with self._call("get_account", api_key) as call:
            verdict = call.verdict
            assert verdict is not None
            return self._reply(call, payloads.account(
                "acct_drill", self.account_name, self.plan, self.size, verdict.policy,
                verdict.remaining, to_iso(self.clock)))

    def health(self) -> Reply:
        """Service status, no key needed: ``ok``, ``degraded`` (a transport fault active)
        or ``down`` (one failing every call), the latter answered with a 503."""
        self._advance()
        call = Call("health", self.next_request_id(), self.clock.now(), now_ms(self.clock))
        self._requests["health"] += 1
        status, cause = self.injector.health(call.at)
        if cause is not None and status == "down":
            self.injector.record(call, cause, {"status": 503})
        reply = self._reply(call, payloads.health(status, to_iso(self.clock)))
        reply.status = 503 if status == "down" else 200
        return reply

    def next_request_id(self) -> str:
        """A fresh request id; deterministic in the seed and the number of calls."""
        self._serial += 1
        digest = hashlib.sha256(f"pulse.request:{self.seed_value}:{self._serial}".encode())
        return "req_" + digest.hexdigest()[:20]

    # ---- the truth, for drills and tests -------------------------------------------

    def truth(self, contact_id: str) -> Contact:
        """The contact as stored, no fault applied; raises NotFound."""
        self._advance()
        index = self.directory.index_of(contact_id)
        if index is None:
            raise NotFound(f"No such contact: '{contact_id}'", param="id")
        return self.directory.contact(index)

    def contact_ids(self, updated_since: str | None = None) -> list[str]:
        """Ids a faultless listing from ``updated_since`` returns now, in order."""
        self._advance()
        since = None if not updated_since else parse_iso_ms(self.clock, updated_since,
                                                           "updated_since")
        updated = self.directory.updated_ms
        rows, _ = select_page(updated, in_range(updated, since, None, None), self.size)
        return [id_of(i) for i in rows]

    # ---- one call --------------------------------------------------------------------

    @contextmanager
    def _call(self, op: str, api_key: str | None) -> Iterator[Call]:
        """Admit a call (auth, rate limit, transport faults); stamp errors with its id."""
        self._advance()
        call = Call(op, self.next_request_id(), self.clock.now(), now_ms(self.clock))
        self._requests[op] += 1
        try:
            self.authenticate(api_key)
            self._admit(call, api_key or "")
            self.injector.transport(call)
            yield call
        except PulseError as exc:
            exc.request_id = call.request_id
            exc.headers = {**call.headers, **exc.headers, "X-Request-Id": call.request_id}
            raise

    def _admit(self, call: Call, api_key: str) -> None:
        """Take a token from the key's bucket; raises RateLimited when it is empty."""
        policy, fault = self.injector.policy(call, self.rate_limit)
        if api_key not in self._buckets:
            self._buckets[api_key] = TokenBucket(policy, call.at)
        bucket = self._buckets[api_key]
        call.verdict = verdict = bucket.take(policy, call.at)
        if verdict.allowed:
            call.headers.update(verdict.headers())
            return
        if fault is not None:
            self.injector.record(call, fault, {"retry_after": verdict.retry_after,
                                               "limit": policy.limit})
        raise RateLimited(f"Rate limit exceeded: {policy.limit} requests, refilled at "
                          f"{policy.per_second:g}/s. Retry after {verdict.retry_after}s.",
                          headers=verdict.headers())

    def _list_query(self, updated_since: str | None,
                    cursor: str | None) -> tuple[int | None, tuple[int, int] | None]:
        """(since_ms, key to resume after) from the query string."""
        if cursor:
            resume = decode_cursor(cursor)
            return resume.since_ms, (resume.after_ms, resume.after_index)
        if not updated_since:
            return None, None
        return parse_iso_ms(self.clock, updated_since, "updated_since"), None

    def _reply(self, call: Call, body: dict[str, Any]) -> Reply:
        return Reply(body, call.request_id, {**call.headers, "X-Request-Id": call.request_id},
                     truncate_at=call.truncate_at)

    def _render(self, call: Call, rows: list[int], updated: np.ndarray) -> list[dict[str, Any]]:
        """The wire records of ``rows`` as served at ``updated``, tampered with by faults."""
        records = []
        for index in rows:
            record = self.directory.contact(index).to_json(self.clock)
            record["updated_at"] = iso_ms(self.clock, int(updated[index]))
            records.append(record)
        self.injector.tamper(call, rows, records)
        return records

    def _advance(self) -> None:
        self.directory.advance(now_ms(self.clock))


def _page_size(limit: int | str | None) -> int:
    """``limit`` as an int in 1..200 (default 50); raises InvalidRequest."""
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    text = str(limit).strip()
    digits = text.isascii() and text.isdigit()
    if isinstance(limit, bool) or not digits or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be an integer between 1 and {MAX_LIMIT}, got "
                             f"{limit!r}", param="limit")
    return int(text)


def _mask(key: str) -> str:
    return key[:6] + "…" + key[-4:] if len(key) > 12 else "…" + key[-4:]
