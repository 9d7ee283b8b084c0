"""What the Pulse sync reports: its errors, open rejections, each pass and its status.

``SyncStatus`` is ``getSyncStatus()``'s answer: what the runbook reads (``lastSyncAt``,
``errors``) and the counters Scenario 3's triggers need. ``SyncRun`` is one pass of the
sync, ``SyncError`` one thing that went wrong, ``Rejection`` a record the mapping refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rollout.app.pulse.mapping import Swap


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
