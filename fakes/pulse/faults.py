"""The failure modes the fake Pulse can inject, their validation, and record tampering.

A fault is ``{"kind", "start", "end", "ops", ...params}``: active while
``start <= now < end`` (virtual seconds; ``start`` defaults to when it is set, ``end`` to
never) and only on the API operations in ``ops``. Kinds and their parameters (defaults):

=============  ===========================================  ===============================
kind           parameters                                   effect
=============  ===========================================  ===============================
error_rate     rate=1.0, statuses=[500, 502, 503]           that fraction of calls fails
timeout        rate=1.0, seconds=30.0, real_latency=0.0     calls hang ``seconds``: a 504
rate_limit     limit=5, per_second=0.5                      a tighter token bucket
malformed      rate=0.1, truncate_rate=0.0,                 records lose ``id`` or get a
               variants=["missing_id", "email_not_string"]  non-string ``email``; bodies cut
mis_mapped     rate=1.0,                                    fields swapped on that fraction
               swaps=[["first_name","email"],               of contacts (mapping drift)
                      ["company","title"]]
missing        rate=0.05                                    contacts absent from listings,
                                                            still fetchable by id
corruption     rate=0.05, spread=300.0                      contacts turn to garbage, each
                                                            at a time in [start, start+spread)
=============  ===========================================  ===============================

Per-call faults (error_rate, timeout, malformed) draw per request; per-contact faults
(mis_mapped, missing, corruption) pick the same contacts on every call, as a real
mapping bug or index drift would. A corrupted contact's ``updated_at`` moves to the
moment it turned, so an incremental sync picks the garbage up; when the fault ends the
data is restored, stamped with the end time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fakes.pulse.errors import InvalidRequest

API_OPS = ("list_contacts", "get_contact", "get_account")
DATA_OPS = ("list_contacts", "get_contact")
VARIANTS = ("missing_id", "email_not_string")
SWAPPABLE = ("first_name", "last_name", "email", "phone", "company", "title", "owner_id",
             "lifecycle_stage")
STATUSES = (500, 502, 503)


@dataclass(frozen=True)
class Kind:
    """A failure mode: the operations it may hit and its parameters' defaults."""

    ops: tuple[str, ...]
    defaults: Mapping[str, Any]


KINDS: dict[str, Kind] = {
    "error_rate": Kind(API_OPS, {"rate": 1.0, "statuses": list(STATUSES)}),
    "timeout": Kind(API_OPS, {"rate": 1.0, "seconds": 30.0, "real_latency": 0.0}),
    "rate_limit": Kind(API_OPS, {"limit": 5, "per_second": 0.5}),
    "malformed": Kind(DATA_OPS, {"rate": 0.1, "truncate_rate": 0.0, "variants": list(VARIANTS)}),
    "mis_mapped": Kind(DATA_OPS, {"rate": 1.0,
                                  "swaps": [["first_name", "email"], ["company", "title"]]}),
    "missing": Kind(("list_contacts",), {"rate": 0.05}),
    "corruption": Kind(DATA_OPS, {"rate": 0.05, "spread": 300.0}),
}


@dataclass(frozen=True)
class Fault:
    """One configured failure mode; ``number`` seeds its draws."""

    id: str
    number: int
    kind: str
    start: float
    end: float | None
    ops: tuple[str, ...]
    params: Mapping[str, Any]

    def active(self, t: float, op: str | None = None) -> bool:
        live = self.start <= t < (math.inf if self.end is None else self.end)
        return live and (op is None or op in self.ops)

    def to_json(self, now: float) -> dict[str, Any]:
        state = ("active" if self.active(now) else
                 "scheduled" if now < self.start and (self.end is None or self.end > self.start)
                 else "ended")
        return {"id": self.id, "kind": self.kind, "start": self.start, "end": self.end,
                "ops": list(self.ops), "state": state, **self.params}


def make_fault(spec: Mapping[str, Any], number: int, now: float) -> Fault:
    """A Fault from a JSON-like spec; raises InvalidRequest naming the bad field."""
    kind = KINDS.get(spec.get("kind"))  # type: ignore[arg-type]
    if kind is None:
        raise InvalidRequest(f"fault kind must be one of {sorted(KINDS)}, got "
                             f"{spec.get('kind')!r}", param="kind")
    start = _time(spec.get("start"), "start", now)
    end = None if spec.get("end") is None else _time(spec["end"], "end", now)
    if end is not None and end <= start:
        raise InvalidRequest("end must be after start", param="end")
    ops = spec.get("ops") or kind.ops
    if isinstance(ops, str) or not set(ops) <= set(kind.ops):
        raise InvalidRequest(f"ops of a {spec['kind']} fault must be among {list(kind.ops)}",
                             param="ops")
    params = dict(kind.defaults)
    for name, value in spec.items():
        if name in ("kind", "start", "end", "ops"):
            continue
        if name not in kind.defaults:
            raise InvalidRequest(f"unknown parameter {name!r} for a {spec['kind']} fault; "
                                 f"known: {sorted(kind.defaults)}", param=name)
        params[name] = _CHECKS[name](name, value)
    return Fault(f"flt_{number:04d}", number, str(spec["kind"]), start, end,
                 tuple(o for o in API_OPS if o in ops), params)


def _time(value: Any, name: str, now: float) -> float:
    if value is None:
        return now
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest(f"{name} must be virtual seconds (a number)", param=name)
    return float(value)


def _number(name: str, value: Any, low: float, high: float = math.inf,
            strict: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and \
        (low < value if strict else low <= value) and value <= high
    if not ok:
        raise InvalidRequest(f"{name} must be a number in {'(' if strict else '['}{low}, "
                             f"{high}]", param=name)
    return float(value)


def _limit(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"{name} must be an integer >= 1", param=name)
    return value


def _choices(allowed: tuple[Any, ...]) -> Callable[[str, Any], list[Any]]:
    def check(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list) or not value or not set(value) <= set(allowed):
            raise InvalidRequest(f"{name} must be a non-empty list drawn from {list(allowed)}",
                                 param=name)
        return list(value)
    return check


def _swaps(name: str, value: Any) -> list[list[str]]:
    pairs = value if isinstance(value, list) else []
    if not pairs or not all(isinstance(p, list) and len(p) == 2 and set(p) <= set(SWAPPABLE)
                            for p in pairs):
        raise InvalidRequest(f"{name} must be a list of field pairs from {list(SWAPPABLE)}",
                             param=name)
    return [list(p) for p in pairs]


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "rate": lambda n, v: _number(n, v, 0.0, 1.0),
    "truncate_rate": lambda n, v: _number(n, v, 0.0, 1.0),
    "seconds": lambda n, v: _number(n, v, 0.0, strict=True),
    "real_latency": lambda n, v: _number(n, v, 0.0),
    "per_second": lambda n, v: _number(n, v, 0.0, strict=True),
    "spread": lambda n, v: _number(n, v, 0.0),
    "limit": _limit,
    "statuses": _choices(STATUSES),
    "variants": _choices(VARIANTS),
    "swaps": _swaps,
}


# ---- record tampering ----------------------------------------------------------------

def break_record(record: dict[str, Any], variant: str, rng: np.random.Generator) -> None:
    """Break the record's shape in place: drop its ``id``, or make ``email`` a non-string."""
    if variant == "missing_id":
        record.pop("id", None)
        return
    email = record.get("email")
    record["email"] = [None, 0, [email], {"address": email}][int(rng.integers(4))]


def swap_fields(record: dict[str, Any], swaps: list[list[str]]) -> None:
    """Swap field values in place, as a drifted field mapping would."""
    for a, b in swaps:
        record[a], record[b] = record[b], record[a]


_JUNK = list("\ufffd#@%&?*0123456789ÃƒÂ")


def garble(record: dict[str, Any], rng: np.random.Generator) -> None:
    """Replace a record's content by garbage of the right types; id and times stay."""
    def junk(n: int) -> str:
        return "".join(rng.choice(_JUNK, size=n))

    record.update(first_name=junk(6), last_name=junk(8), email=f"{junk(5)}@@{junk(3)}",
                  phone=["", "NaN", "0000000000"][int(rng.integers(3))],
                  company=["", "null", junk(10)][int(rng.integers(3))],
                  title="#REF!", tags=[junk(3)], lifecycle_stage="undefined",
                  custom_fields={"lead_score": -1, "region": junk(2)})
