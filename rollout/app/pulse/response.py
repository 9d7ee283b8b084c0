"""Scenario 3 of the runbook, "Data Sync Issues (Pulse Integration)", as code.

- ``scenario3_triggered(status)``: the trigger conditions — sync failures > 50 % (over
  the recent window of calls), data inconsistencies (records the mapping rejected),
  missing contact data, Pulse API errors (a pass that gave up on one).
- ``diagnose(status, check)``: the decision's three branches. *Corruption* when
  rejected records fail validation in several fields that no field swap explains
  (garbage of the right types); *api* when the connection test fails, most recent calls
  fail, the last pass gave up on an API error, or Pulse sends malformed records;
  *mapping* when records fail validation the same way (the same columns exchanged).
  Corruption is checked first: it is the branch that protects the data.
- ``respond_to_sync_issue(...)``: the response procedure, a generator of
  ``rollout.steps`` steps: disable sync (``VITE_PULSE_SYNC_ENABLED=false``) and wait
  until it is live, read ``getSyncStatus()`` and ``testConnection()``, diagnose, then
  mock data + contact Pulse / fix the mapping + re-enable + one checked sync / full
  rollback + database restore. The actions are callables passed in (an env var change
  on Vercel or Netlify, a DB restore…); one that returns a procedure is run step by step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass
from typing import Any

from rollout.app.pulse.client import API_KINDS, ConnectionCheck, PulseContactService
from rollout.app.pulse.mapping import EntityMapping, Swap
from rollout.app.pulse.status import SyncStatus
from rollout.app.pulse.sync import SYNC_ENV, PulseSyncService
from rollout.steps import Manual, Procedure, Step, Wait

FAILURE_RATE = 0.5  # "Sync failures > 50%"
Action = Callable[[], Any]


# ---- triggers and diagnosis -----------------------------------------------------------

def scenario3_triggered(status: SyncStatus, max_failure_rate: float = FAILURE_RATE,
                        min_attempts: int = 4) -> tuple[bool, list[str]]:
    """Whether Scenario 3's trigger conditions hold, and which, in the runbook's words.

    The failure rate counts only once ``min_attempts`` calls are in the window, so that
    one failed call out of one is not "100 % failures".
    """
    reasons = []
    if status.window_attempts >= min_attempts and status.failure_rate > max_failure_rate:
        reasons.append(f"sync failures {status.failure_rate:.0%} > {max_failure_rate:.0%} "
                       f"over the last {status.window_attempts} calls")
    if status.rejections:
        kinds = Counter(r.kind for r in status.rejections)
        reasons.append("data inconsistencies: " + ", ".join(
            f"{n} {kind.replace('_', ' ')} rejections" for kind, n in sorted(kinds.items())))
    if status.missing:
        reasons.append(f"missing contact data: {status.missing} contacts Pulse holds are "
                       f"not in the listings")
    aborted = status.last_run.aborted if status.last_run else None
    if aborted is not None and aborted.kind in API_KINDS:
        reasons.append(f"Pulse API errors: the last sync gave up at {aborted.where}: "
                       f"{aborted.kind} ({aborted.detail})")
    return bool(reasons), reasons


@dataclass(frozen=True)
class Diagnosis:
    """A branch of the runbook's decision (``api``, ``mapping``, ``corruption`` or
    ``healthy``), why, the columns that look swapped, and the contacts involved."""

    kind: str
    reasons: tuple[str, ...]
    swaps: tuple[Swap, ...] = ()
    contact_ids: tuple[str, ...] = ()


def diagnose(status: SyncStatus, check: ConnectionCheck | None, *,
             max_failure_rate: float = FAILURE_RATE, garbage_fields: int = 2,
             consistency: float = 0.8) -> Diagnosis:
    """Classify the sync's trouble. A record is garbage when ``garbage_fields`` or more
    columns fail with no swap to explain them; a swap pattern is consistent when it
    explains at least ``consistency`` of the mapping rejections."""
    return (_corruption(status, garbage_fields) or _api(status, check, max_failure_rate)
            or _mapping(status, consistency)
            or Diagnosis("healthy", ("connection ok; no failing calls, rejected records or "
                                     "missing contacts",)))


def _corruption(status: SyncStatus, garbage_fields: int) -> Diagnosis | None:
    garbage = [r for r in status.rejections
               if r.kind == "mapping" and len(r.unexplained) >= garbage_fields]
    if not garbage:
        return None
    fields = Counter(c for r in garbage for c in r.unexplained)
    overwrote = [r for r in garbage if r.overwrites]
    reasons = [f"{len(garbage)} records turned to garbage: "
               + ", ".join(f"{c} ({n})" for c, n in fields.most_common())
               + " fail validation with no field swap to explain them"]
    if overwrote:
        reasons.append(f"{len(overwrote)} of them would have overwritten values the store "
                       f"holds as valid (the validators kept them out)")
    return Diagnosis("corruption", tuple(reasons),
                     contact_ids=tuple(sorted(r.contact_id for r in garbage if r.contact_id)))


def _api(status: SyncStatus, check: ConnectionCheck | None,
         max_failure_rate: float) -> Diagnosis | None:
    reasons = []
    if check is not None and not check.ok:
        reasons.append(f"testConnection() failed: {check.error}")
    if status.window_attempts and status.failure_rate > max_failure_rate:
        reasons.append(f"{status.window_failures} of the last {status.window_attempts} "
                       f"calls to Pulse failed")
    aborted = status.last_run.aborted if status.last_run else None
    if aborted is not None and aborted.kind in API_KINDS:
        reasons.append(f"the last sync gave up at {aborted.where}: {aborted.kind}")
    # The runbook's investigation prints ``syncStatus.errors``: failed calls logged there
    # show an intermittent API outage even when the latest pass was lucky and the recent
    # window's failure rate dipped under the threshold.
    failed = [e for e in status.errors if e.kind in API_KINDS]
    if failed:
        kinds = Counter(e.kind for e in failed)
        reasons.append(f"the sync log holds {len(failed)} failed calls to Pulse ("
                       + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
                       + f"), the last at {failed[-1].at:g} s")
    malformed = [r for r in status.rejections if r.kind == "malformed_record"]
    if malformed:
        reasons.append(f"Pulse sent {len(malformed)} malformed records (shape: "
                       + ", ".join(sorted({f for r in malformed for f in r.fields})) + ")")
    return Diagnosis("api", tuple(reasons)) if reasons else None


def _mapping(status: SyncStatus, consistency: float) -> Diagnosis | None:
    rejected = [r for r in status.rejections if r.kind == "mapping"]
    if not rejected:
        return None
    explained = [r for r in rejected if r.swaps and not r.unexplained]
    counts = Counter(pair for r in explained for pair in r.swaps)
    pattern = tuple(sorted(p for p, n in counts.items() if 2 * n >= len(explained)))
    ids = tuple(sorted(r.contact_id for r in rejected if r.contact_id))
    if pattern and len(explained) >= consistency * len(rejected):
        swaps = ", ".join(f"{a}<->{b}" for a, b in pattern)
        return Diagnosis("mapping", (f"{len(explained)} of {len(rejected)} rejected records "
                                     f"are explained by the same swap: {swaps}",), pattern, ids)
    return Diagnosis("mapping", (f"{len(rejected)} records fail the mapping's validators "
                                 f"with no consistent swap: the mapping needs review",),
                     (), ids)


# ---- the response ---------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario3Actions:
    """What the responder can do. Each callable may return a procedure (a generator of
    steps, e.g. a Vercel env var change and redeploy), which is then run step by step."""

    disable_sync: Action
    enable_sync: Action
    use_mock_data: Action
    full_rollback: Action
    restore_database: Action


def respond_to_sync_issue(sync: PulseSyncService, contacts: PulseContactService,
                          actions: Scenario3Actions, *,
                          corrected_mapping: EntityMapping | None = None, poll: float = 10.0,
                          max_wait: float = 900.0) -> Procedure:
    """Run Scenario 3; returns facts: ``branch``, ``reasons``, ``actions`` taken in order,
    the status and connection check read, and what each branch did (``resolved``)."""
    triggered, why = scenario3_triggered(sync.get_sync_status())
    facts: dict[str, Any] = {"triggered": triggered, "trigger_reasons": why, "actions": []}
    yield Manual(f"set {SYNC_ENV}=false")
    facts["disable_sync"] = yield from _perform(actions.disable_sync)
    facts["actions"].append("disable_sync")
    facts["sync_stopped_after_s"] = yield from _await_sync(sync, False, poll, max_wait)
    yield Manual("check the sync logs: pulseSyncService.getSyncStatus()")
    status = sync.get_sync_status()
    yield Manual("test the Pulse API: pulseContactService.testConnection()")
    check = contacts.test_connection()
    if check.latency:
        yield Wait(check.latency, "testConnection() hung until it timed out")
    diagnosis = diagnose(status, check)
    facts |= {"branch": diagnosis.kind, "reasons": list(diagnosis.reasons),
              "status": status.summary(), "connection": asdict(check)}
    context = _Context(sync, status, actions, diagnosis, facts["actions"], corrected_mapping,
                       poll, max_wait)
    facts |= yield from _BRANCHES[diagnosis.kind](context)
    return facts


@dataclass(frozen=True)
class _Context:
    """What a branch works with; ``done`` collects the names of the actions taken."""

    sync: PulseSyncService
    status: SyncStatus
    actions: Scenario3Actions
    diagnosis: Diagnosis
    done: list[str]
    corrected: EntityMapping | None
    poll: float
    max_wait: float


Branch = Generator[Step, None, dict[str, Any]]


def _api_branch(c: _Context) -> Branch:
    yield Manual("switch the Contacts UI to mock data")
    mock = yield from _perform(c.actions.use_mock_data)
    c.done.append("use_mock_data")
    yield Manual("contact the Pulse team with the failing request ids")
    c.done.append("contact_pulse")
    request_ids = [e.request_id for e in c.status.errors if e.request_id][-10:]
    return {"mock_data": mock, "request_ids": request_ids, "resolved": False,
            "next": "sync stays off until Pulse confirms the API is healthy"}


def _mapping_branch(c: _Context) -> Branch:
    swaps = c.diagnosis.swaps
    fixed = c.corrected or (c.sync.mapping.swapped(swaps) if swaps else None)
    if fixed is None:
        return {"resolved": False, "next": "no consistent swap and no corrected mapping: "
                                           "sync stays off until the mapping is reviewed"}
    what = ", ".join(f"{a}<->{b}" for a, b in swaps) if swaps else "the corrected mapping"
    yield Manual(f"fix the entity mappings ({what}) and deploy the fix")
    c.sync.set_mapping(fixed)
    c.done.append("fix_mapping")
    yield Manual(f"set {SYNC_ENV}=true")
    enabled = yield from _perform(c.actions.enable_sync)
    c.done.append("enable_sync")
    live_after = yield from _await_sync(c.sync, True, c.poll, c.max_wait)
    run = yield from c.sync.sync()
    c.done.append("sync")
    resolved = run.ok and run.rejected == 0 and not c.sync.get_sync_status().rejections
    facts = {"enable_sync": enabled, "sync_live_after_s": live_after,
             "swaps": [list(p) for p in swaps], "resync": run.to_json(), "resolved": resolved}
    if not resolved:
        yield Manual(f"the sync still fails: set {SYNC_ENV}=false again")
        facts["disable_sync_again"] = yield from _perform(c.actions.disable_sync)
        c.done.append("disable_sync")
    return facts


def _corruption_branch(c: _Context) -> Branch:
    yield Manual("full rollback of the Contacts redesign")
    rollback = yield from _perform(c.actions.full_rollback)
    c.done.append("full_rollback")
    yield Manual("restore the database from the last good backup")
    restore = yield from _perform(c.actions.restore_database)
    c.done.append("restore_database")
    c.sync.rewind()  # the watermark and open rejections describe data the restore replaced
    return {"rollback": rollback, "restore": restore,
            "corrupted": list(c.diagnosis.contact_ids), "resolved": True}


def _healthy_branch(c: _Context) -> Branch:
    yield from ()
    return {"resolved": False,
            "next": "nothing wrong found now: sync stays off until someone re-enables it"}


_BRANCHES = {"api": _api_branch, "mapping": _mapping_branch,
             "corruption": _corruption_branch, "healthy": _healthy_branch}


def _perform(action: Action) -> Generator[Step, None, Any]:
    """Call ``action``; when it returns a procedure, run it and return what it returns."""
    result = action()
    if isinstance(result, Generator):
        result = yield from result
    return result


def _await_sync(sync: PulseSyncService, want: bool, poll: float,
                max_wait: float) -> Generator[Step, None, float | None]:
    """Poll until ``VITE_PULSE_SYNC_ENABLED`` reads ``want`` where the sync runs (a Vite
    env var is live only once a new build is); the seconds waited, None on giving up."""
    waited = 0.0
    while sync.is_enabled() != want:
        if waited >= max_wait:
            return None
        yield Wait(poll, f"{SYNC_ENV}={'true' if want else 'false'} is not live yet")
        waited += poll
    return waited
