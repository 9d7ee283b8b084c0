"""The faults set on one fake Pulse, applied to calls, and the log of what they did.

``Injector`` keeps every fault set since the last reset (ended ones too: a restored
corruption still shapes ``updated_at``), gives each its own seeded draws, and is asked
by the backend at each step of a call: which rate limit is in force, whether the call
times out or fails, which contacts a listing hides, and how the records are tampered
with. Every fault that hits a call is logged as an ``InjectedFault``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from fakes.pulse.directory import id_of
from fakes.pulse.errors import ApiError, InvalidRequest, PulseTimeout
from fakes.pulse.faults import Fault, break_record, garble, make_fault, swap_fields
from fakes.pulse.models import Call, InjectedFault, stream
from fakes.pulse.ratelimit import RateLimit

_MESSAGES = {500: "An internal error occurred. Please retry.",
             502: "Bad gateway: the upstream connection was reset.",
             503: "Pulse is temporarily unavailable. Please retry shortly."}
Records = list[dict[str, Any]]


class Injector:
    """The fault book of a directory of ``size`` contacts under ``seed``."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed, self.size = seed, size
        self.faults: dict[str, Fault] = {}
        self.log: list[InjectedFault] = []
        self._draws: dict[str, np.random.Generator] = {}
        self._picks: dict[str, np.ndarray] = {}

    # ---- setting and clearing ------------------------------------------------------

    def add(self, specs: Iterable[Mapping[str, Any]], now: float) -> list[Fault]:
        """Add faults, all or none; raises InvalidRequest on a bad spec."""
        made: list[Fault] = []
        for spec in specs:
            if not isinstance(spec, Mapping):
                raise InvalidRequest("each fault must be an object", param="faults")
            made.append(make_fault(spec, len(self.faults) + len(made) + 1, now))
        self.faults.update((f.id, f) for f in made)
        return made

    def clear(self, which: str | Iterable[str] | None, now: float) -> list[Fault]:
        """End now the open faults named by id or kind (all when None); returns them."""
        names = None if which is None else {which} if isinstance(which, str) else set(which)
        ended = []
        for fault in list(self.faults.values()):
            open_now = fault.end is None or fault.end > now
            if open_now and (names is None or fault.id in names or fault.kind in names):
                self.faults[fault.id] = replace(fault, end=now)
                ended.append(self.faults[fault.id])
        return ended

    def active(self, call: Call, kind: str) -> list[Fault]:
        return [f for f in self.faults.values() if f.kind == kind and f.active(call.at, call.op)]

    def record(self, call: Call, fault: Fault, detail: dict[str, Any]) -> None:
        self.log.append(InjectedFault(call.at, call.op, fault.kind, fault.id,
                                      call.request_id, detail))

    # ---- transport -----------------------------------------------------------------

    def policy(self, call: Call, plan: RateLimit) -> tuple[RateLimit, Fault | None]:
        """The bucket in force: the tightest active ``rate_limit`` fault, else ``plan``."""
        tight = sorted(self.active(call, "rate_limit"),
                       key=lambda f: (f.params["limit"], f.params["per_second"]))
        if not tight:
            return plan, None
        return RateLimit(tight[0].params["limit"], tight[0].params["per_second"]), tight[0]

    def transport(self, call: Call) -> None:
        """Raise PulseTimeout or ApiError when an active fault's draw says so."""
        for fault in self.active(call, "timeout"):
            if self._draw(fault).random() < fault.params["rate"]:
                self.record(call, fault, {"seconds": fault.params["seconds"]})
                raise PulseTimeout(fault.params["seconds"], fault.params["real_latency"])
        for fault in self.active(call, "error_rate"):
            rng = self._draw(fault)
            if rng.random() < fault.params["rate"]:
                statuses = fault.params["statuses"]
                status = int(statuses[int(rng.integers(len(statuses)))])
                self.record(call, fault, {"status": status})
                raise ApiError(_MESSAGES[status], status=status,
                               headers={"Retry-After": "5"} if status == 503 else None)

    def health(self, now: float) -> tuple[str, Fault | None]:
        """``down`` when a transport fault fails every call, ``degraded`` when one is
        active at all, else ``ok``; with the fault responsible."""
        live = [f for f in self.faults.values()
                if f.active(now) and f.kind in ("error_rate", "timeout", "rate_limit")]
        down = [f for f in live if f.kind != "rate_limit" and f.params["rate"] >= 1.0]
        if down:
            return "down", down[0]
        return ("degraded", live[0]) if live else ("ok", None)

    # ---- data ----------------------------------------------------------------------

    def updated_ms(self, call: Call, stored: np.ndarray) -> np.ndarray:
        """``updated_at`` as served: a corrupted contact moves to when it turned, and to
        the fault's end once restored."""
        updated = stored
        for fault in self.faults.values():
            if fault.kind != "corruption" or call.op not in fault.ops:
                continue
            chosen, at_ms = self._corruption(fault)
            end_ms = math.inf if fault.end is None else math.ceil(fault.end * 1000)
            hit = chosen & (at_ms <= call.at_ms) & (at_ms < end_ms)
            if hit.any():
                stamp = at_ms if call.at_ms < end_ms else np.full_like(at_ms, int(end_ms))
                updated = np.where(hit, np.maximum(updated, stamp), updated)
        return updated

    def hidden(self, call: Call) -> np.ndarray:
        """One row per active ``missing`` fault: the contacts it hides from listings."""
        faults = self.active(call, "missing")
        rows = [self._contact_picks(f)[0] < f.params["rate"] for f in faults]
        return np.array(rows, dtype=bool).reshape(len(faults), self.size)

    def log_missing(self, call: Call, hidden: np.ndarray, page_range: np.ndarray) -> None:
        """Log, per fault, the hidden contacts that belonged on this page."""
        for fault, row in zip(self.active(call, "missing"), hidden, strict=True):
            absent = np.flatnonzero(row & page_range)
            if absent.size:
                self.record(call, fault, {"ids": [id_of(int(i)) for i in absent]})

    def tamper(self, call: Call, rows: list[int], records: Records) -> None:
        """Apply corruption, then mis-mapping, then breakage to the records of ``rows``."""
        self._corrupt(call, rows, records)
        self._mis_map(call, rows, records)
        self._malform(call, records)

    def _corrupt(self, call: Call, rows: list[int], records: Records) -> None:
        for fault in self.active(call, "corruption"):
            chosen, at_ms = self._corruption(fault)
            hits = [n for n, i in enumerate(rows) if chosen[i] and at_ms[i] <= call.at_ms]
            for n in hits:  # the same garbage on every read: seeded by fault and contact
                garble(records[n], stream(self.seed, "fault.garble", fault.number, rows[n]))
            if hits:
                self.record(call, fault, {"ids": [id_of(rows[n]) for n in hits]})

    def _mis_map(self, call: Call, rows: list[int], records: Records) -> None:
        for fault in self.active(call, "mis_mapped"):
            picks = self._contact_picks(fault)[0]
            hits = [n for n, i in enumerate(rows) if picks[i] < fault.params["rate"]]
            for n in hits:
                swap_fields(records[n], fault.params["swaps"])
            if hits:
                self.record(call, fault, {"ids": [id_of(rows[n]) for n in hits],
                                          "swaps": fault.params["swaps"]})

    def _malform(self, call: Call, records: Records) -> None:
        for fault in self.active(call, "malformed"):
            rng, variants = self._draw(fault), fault.params["variants"]
            broken: list[tuple[str, str]] = []
            for record in records:
                if rng.random() < fault.params["rate"]:
                    variant = variants[int(rng.integers(len(variants)))]
                    broken.append((str(record.get("id")), variant))
                    break_record(record, variant, rng)
            if broken:
                self.record(call, fault, {"ids": [b[0] for b in broken],
                                          "variants": [b[1] for b in broken]})
            if call.truncate_at is None and rng.random() < fault.params["truncate_rate"]:
                call.truncate_at = round(0.2 + 0.7 * float(rng.random()), 6)
                self.record(call, fault, {"truncated_at": call.truncate_at})

    # ---- draws ---------------------------------------------------------------------

    def _corruption(self, fault: Fault) -> tuple[np.ndarray, np.ndarray]:
        """Which contacts a corruption fault hits, and the virtual ms each one turns."""
        picks = self._contact_picks(fault)
        start_ms = math.ceil(fault.start * 1000)
        at_ms = start_ms + np.floor(picks[1] * fault.params["spread"] * 1000).astype(np.int64)
        return picks[0] < fault.params["rate"], at_ms

    def _draw(self, fault: Fault) -> np.random.Generator:
        """The fault's own per-call generator: faults never shift each other's draws."""
        if fault.id not in self._draws:
            self._draws[fault.id] = stream(self.seed, "fault.calls", fault.number)
        return self._draws[fault.id]

    def _contact_picks(self, fault: Fault) -> np.ndarray:
        """Two uniforms per contact, fixed for the fault: who it hits, and when."""
        if fault.id not in self._picks:
            rng = stream(self.seed, "fault.contacts", fault.number)
            self._picks[fault.id] = rng.random((2, self.size))
        return self._picks[fault.id]
