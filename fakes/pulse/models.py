"""The records the fake Pulse keeps and sends, and the small pure helpers they need.

Times inside Pulse are integer *virtual milliseconds* since the clock's epoch, so that a
timestamp sent as ISO-8601 with milliseconds parses back to exactly the value that was
ordered on (paging by ``(updated_at, id)`` must never lose a record to float rounding).
Randomness comes from ``stream(seed, name, ...)``: one independent numpy generator per
name, derived through a stable hash, so adding a consumer never shifts another's draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from fakes.common.clock import Clock
from fakes.pulse.errors import InvalidRequest
from fakes.pulse.ratelimit import Verdict

_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Contact:
    """One Pulse contact as stored (no fault applied); ``to_json`` is its wire shape."""

    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    title: str
    tags: tuple[str, ...]
    owner_id: str
    created_ms: int
    updated_ms: int
    lifecycle_stage: str
    custom_fields: Mapping[str, Any]

    def to_json(self, clock: Clock) -> dict[str, Any]:
        return {"id": self.id, "object": "contact", "first_name": self.first_name,
                "last_name": self.last_name, "email": self.email, "phone": self.phone,
                "company": self.company, "title": self.title, "tags": list(self.tags),
                "owner_id": self.owner_id, "created_at": iso_ms(clock, self.created_ms),
                "updated_at": iso_ms(clock, self.updated_ms),
                "lifecycle_stage": self.lifecycle_stage,
                "custom_fields": dict(self.custom_fields)}


@dataclass
class Reply:
    """What an API call answers: a JSON-ready body plus headers.

    ``truncate_at`` (a fraction of the encoded body, or None) asks the encoder to cut the
    body short: an injected ``malformed`` fault, sent with status 200.
    """

    body: dict[str, Any]
    request_id: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    truncate_at: float | None = None


@dataclass
class Call:
    """One API call in flight: its operation, request id, time, and reply headers."""

    op: str
    request_id: str
    at: float
    at_ms: int
    headers: dict[str, str] = field(default_factory=dict)
    verdict: Verdict | None = None  # the key's bucket's answer, once admitted
    truncate_at: float | None = None


@dataclass(frozen=True)
class InjectedFault:
    """One failure the fake applied to one response: when, to which call, what kind."""

    at: float
    op: str
    kind: str
    fault_id: str
    request_id: str
    detail: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "op": self.op, "kind": self.kind, "fault_id": self.fault_id,
                "request_id": self.request_id, "detail": dict(self.detail)}


def iso_ms(clock: Clock, ms: int) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z`` for virtual millisecond ``ms``."""
    when = clock.epoch + int(ms) * _MS
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso_ms(clock: Clock, text: str, param: str) -> int:
    """Virtual milliseconds of an ISO timestamp, rounded up to the next millisecond.

    Rounding up keeps ``updated_at >= since`` exact for sub-millisecond input.
    Raises InvalidRequest naming ``param`` when ``text`` is not ISO-8601.
    """
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(f"{param} must be an ISO-8601 timestamp, got {text!r}",
                             param=param) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return -((clock.epoch - parsed) // _MS)


def now_ms(clock: Clock) -> int:
    """The clock's now in whole virtual milliseconds (rounded down)."""
    return int(np.floor(clock.now() * 1000.0))


def stream(seed: int, name: str, *numbers: int) -> np.random.Generator:
    """An independent generator for ``(seed, name, numbers)``, stable across processes."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    # SeedSequence wants non-negative entropy: shift signed numbers (bucket indices) up.
    return np.random.default_rng([seed % 2**63, *words, *(n + 2**40 for n in numbers)])


def derive_seed(seed: int | np.random.Generator) -> int:
    """An int seed from a seed or from a generator (one draw from it)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**62))
    return int(seed)
