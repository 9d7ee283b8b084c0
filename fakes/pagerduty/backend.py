"""The fake PagerDuty: Events API v2 intake, incidents keyed by dedup_key, escalation.

A pure state machine over an injected clock; no HTTP here (``router.py`` is the HTTP
face). ``enqueue`` takes an alert event as the API does: a trigger opens an incident (or
is deduplicated into the open one with its dedup_key), acknowledge and resolve move it
along the table in ``lifecycle.py``; events that change nothing are accepted and
recorded as "ignored", as PagerDuty answers 202 and drops them.

Escalation is derived from the clock: when an incident is triggered its service's
policy pages level 1; each level has ``escalation_delay`` seconds to acknowledge before
the next level is paged. Every public method first applies the escalations due by now
(``_advance``), stamping each notification with the exact virtual time it fell due, so
the record is right even when nobody looked in between. A deadline falls due when
now >= its time: an acknowledgement at exactly the deadline is too late.

``reset`` creates the default service ``contacts-web`` on ``DEFAULT_ROUTING_KEY`` with
the runbook's policy (Incident Lead → DevOps Lead → CTO); ``rekey`` gives it another key
(``drill serve`` beyond loopback: one derived from its per-serve secret).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from fakes.common.clock import Clock
from fakes.pagerduty.errors import InvalidEvent, NotFound
from fakes.pagerduty.escalation import RUNBOOK_POLICY, EscalationPolicy
from fakes.pagerduty.events import (
    AlertEvent,
    ChangeEvent,
    parse_alert_event,
    parse_change_event,
    routing_key_errors,
)
from fakes.pagerduty.lifecycle import Deadline, Deadlines, IncidentStatus, next_status
from fakes.pagerduty.models import EventRecord, Incident, Notification, Service, Transition

DEFAULT_ROUTING_KEY = hashlib.sha256(b"rollout-drill contacts-web").hexdigest()[:32]
_UPPER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class PagerDutyBackend:
    """Services (routing keys), their incidents, notifications and accepted events."""

    def __init__(self, clock: Clock, routing_key: str = DEFAULT_ROUTING_KEY,
                 service: str = "contacts-web",
                 escalation_policy: EscalationPolicy = RUNBOOK_POLICY) -> None:
        self.clock = clock
        self._default = (service, routing_key, escalation_policy)
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget every incident and event; keep only the default service. Ids restart."""
        self._counters: Counter[str] = Counter()
        self._deadlines = Deadlines()
        self.services: dict[str, Service] = {}
        self._incidents: dict[str, Incident] = {}
        self._open: dict[tuple[str, str], str] = {}  # (routing key, dedup_key) → open id
        self._notifications: list[Notification] = []
        self._events: list[EventRecord] = []
        self._changes: list[ChangeEvent] = []
        name, key, policy = self._default
        self.create_service(name, key, policy)

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state``."""
        self._advance()
        return {
            "now": self.clock.now(),
            "services": [asdict(s) for s in self.services.values()],
            "incidents": [asdict(i) for i in self._incidents.values()],
            "notifications": [asdict(n) for n in self._notifications],
            "events": [asdict(e) for e in self._events],
            "change_events": [asdict(c) for c in self._changes],
            "next_escalation_at": self.next_escalation_at(),
        }

    # ---- services and policies -----------------------------------------------------

    def create_service(self, name: str, routing_key: str | None = None,
                       escalation_policy: EscalationPolicy = RUNBOOK_POLICY) -> Service:
        """A service with an Events API v2 integration; raises ValueError on a bad key."""
        key = routing_key or hashlib.sha256(f"service {name}".encode()).hexdigest()[:32]
        if routing_key_errors(key):
            raise ValueError(f"routing key {key!r}: {'; '.join(routing_key_errors(key))}")
        if key in self.services:
            raise ValueError(f"routing key {key!r} is already used by another service")
        self.services[key] = Service(name, key, escalation_policy)
        return self.services[key]

    @property
    def routing_key(self) -> str:
        """The default service's routing key (its Events API v2 integration key)."""
        return self._default[1]

    def rekey(self, routing_key: str) -> None:
        """Move the default service to ``routing_key``, with everything recorded under its
        old key; the old key is unknown from now on. Raises ValueError on a key PagerDuty
        would refuse or one another service has."""
        old, key = self.routing_key, routing_key
        if routing_key_errors(key) or (key in self.services and key != old):
            raise ValueError(f"routing key {key!r} is malformed or taken")
        name, _, policy = self._default
        self._default = (name, key, policy)
        service = self.services.pop(old)
        service.routing_key, self.services[key] = key, service
        records: list[Incident | EventRecord] = [*self._incidents.values(), *self._events]
        for record in records:
            if record.routing_key == old:
                record.routing_key = key
        self._changes = [replace(c, routing_key=key) if c.routing_key == old else c
                         for c in self._changes]
        self._open = {(key if k == old else k, d): i for (k, d), i in self._open.items()}

    def escalation_policy(self, routing_key: str | None = None) -> EscalationPolicy:
        """The policy of the service behind ``routing_key`` (default: the default
        service's); raises NotFound."""
        return self._service(routing_key or self.routing_key).policy

    def set_escalation_policy(self, policy: EscalationPolicy,
                              routing_key: str | None = None) -> None:
        """Give the service a new policy; applies to incidents triggered from now on."""
        self._service(routing_key or self.routing_key).policy = policy

    # ---- Events API v2 ---------------------------------------------------------------

    def enqueue(self, body: Any) -> str:
        """Accept an alert event (the body of ``POST /v2/enqueue``); returns its dedup_key.

        Raises InvalidEvent for a malformed event or an unknown routing key.
        """
        self._advance()
        event = parse_alert_event(body)
        service = self._known(event.routing_key)
        if event.action == "trigger":
            return self._trigger(service, event)
        assert event.dedup_key is not None  # checked by parse_alert_event
        self._act(event.routing_key, event.action, event.dedup_key)
        return event.dedup_key

    def enqueue_change(self, body: Any) -> ChangeEvent:
        """Accept a change event (``POST /v2/change/enqueue``); raises InvalidEvent."""
        self._advance()
        change = parse_change_event(body, self.clock.now())
        self._known(change.routing_key)
        self._changes.append(change)
        return change

    # ---- reading ---------------------------------------------------------------------

    def incidents(self, status: str | None = None,
                  routing_key: str | None = None) -> list[Incident]:
        """Incidents in creation order, optionally of one status or service."""
        self._advance()
        return [i for i in self._incidents.values()
                if (status is None or i.status == status)
                and (routing_key is None or i.routing_key == routing_key)]

    def add_past_incident(self, incident: Incident, notifications: list[Notification]) -> None:
        """Keep a resolved incident of the past and its pages (``fakes.pagerduty.history``
        seeds them); it never escalates or pages again."""
        self._incidents[incident.id] = incident
        self._notifications.extend(notifications)

    def incident(self, dedup_key: str) -> Incident:
        """The latest incident with ``dedup_key`` (open or not); raises NotFound."""
        self._advance()
        found = [i for i in self._incidents.values() if i.dedup_key == dedup_key]
        if not found:
            raise NotFound(f"no incident with dedup_key {dedup_key!r}")
        return found[-1]

    def notifications(self, dedup_key: str | None = None) -> list[Notification]:
        """Every page sent so far, in time order, optionally for one dedup_key."""
        self._advance()
        return [n for n in self._notifications if dedup_key in (None, n.dedup_key)]

    def events(self) -> list[EventRecord]:
        """Every accepted alert event and what it did, in arrival order."""
        self._advance()
        return list(self._events)

    def change_events(self) -> list[ChangeEvent]:
        self._advance()
        return list(self._changes)

    # ---- escalation ------------------------------------------------------------------

    def next_escalation_at(self) -> float | None:
        """Virtual time of the next escalation, if nobody acknowledges before it."""
        self._advance()
        self._deadlines.discard_stale(self._is_live)
        return self._deadlines.next_at()

    def due_escalations(self, since: float | None = None) -> list[Notification]:
        """Pages sent by timed escalation with ``since < at <= now`` (all when None).

        A drill process can call this with the time it last looked and page whoever it
        returns; each notification carries the exact virtual time it fell due.
        """
        self._advance()
        return [n for n in self._notifications if n.reason == "escalated"
                and (since is None or n.at > since)]

    def escalate(self, dedup_key: str, level: int | None = None) -> list[Notification]:
        """Escalate the open incident by hand to ``level`` (default: the next one).

        The runbook's "rollback failed → escalate to CTO". An acknowledged incident goes
        back to triggered for the new level, whose acknowledgement deadline (if a level
        follows it) starts now.
        Raises NotFound (no open incident) or ValueError (no such level).
        """
        self._advance()
        incident = self._open_incident(dedup_key)
        policy = self.services[incident.routing_key].policy
        target = min(incident.level + 1, len(policy.levels)) if level is None else level
        policy.level(target)  # raises ValueError outside the policy
        now = self.clock.now()
        self._move(incident, "escalate", now)
        return self._page(incident, target, now, "manual")

    # ---- internals -------------------------------------------------------------------

    def _trigger(self, service: Service, event: AlertEvent) -> str:
        now = self.clock.now()
        open_id = self._open.get((service.routing_key, event.dedup_key or ""))
        if open_id is not None:
            incident = self._incidents[open_id]
            incident.alert_count += 1
            self._record(event, incident.dedup_key, "deduplicated", incident.id)
            return incident.dedup_key
        incident = self._new_incident(service, event, now)
        self._record(event, incident.dedup_key, "created", incident.id)
        self._page(incident, 1, now, "triggered")
        return incident.dedup_key

    def _act(self, routing_key: str, action: str, dedup_key: str) -> None:
        incident_id = self._open.get((routing_key, dedup_key))
        incident = self._incidents[incident_id] if incident_id else None
        changed = incident is not None and self._move(incident, action, self.clock.now())
        outcome = ("acknowledged" if action == "acknowledge" else "resolved") if changed \
            else "ignored"
        self._events.append(EventRecord(self.clock.now(), routing_key, action, dedup_key,
                                        outcome, incident.id if incident else None))

    def _move(self, incident: Incident, action: str, at: float) -> bool:
        """Apply ``action`` by the transition table; False when it changes nothing."""
        new = next_status(incident.status, action)
        if new is None:
            return False
        if new is not incident.status:
            incident.transitions.append(Transition(at, new))
        incident.status = new
        if new is IncidentStatus.ACKNOWLEDGED and incident.acknowledged_at is None:
            incident.acknowledged_at = at
        if new is not IncidentStatus.TRIGGERED:
            incident.escalation_due_at = None
        if new is IncidentStatus.RESOLVED:
            incident.resolved_at = at
            self._open.pop((incident.routing_key, incident.dedup_key), None)
        return True

    def _page(self, incident: Incident, level: int, at: float,
              reason: str) -> list[Notification]:
        """Notify ``level``'s targets at ``at`` and start its acknowledgement clock
        (unless the policy has nowhere left to escalate to)."""
        policy = self.services[incident.routing_key].policy
        incident.level = level
        sent = [Notification(at, incident.id, incident.dedup_key, level, target, reason)
                for target in policy.level(level).targets]
        self._notifications.extend(sent)
        incident.escalation_due_at = None
        if policy.after(level, incident.loops) is not None:
            incident.escalation_due_at = at + policy.level(level).escalation_delay
            self._deadlines.add(incident.escalation_due_at, incident.id)
        return sent

    def _advance(self) -> None:
        """Page every level whose predecessor's deadline passed unacknowledged, in order."""
        for deadline in self._deadlines.pop_due(self.clock.now()):
            if not self._is_live(deadline):
                continue
            incident = self._incidents[deadline.incident_id]
            policy = self.services[incident.routing_key].policy
            step = policy.after(incident.level, incident.loops)
            if step is not None:  # None only if the policy changed since the page
                incident.loops = step[1]
                self._page(incident, step[0], deadline.at, "escalated")

    def _is_live(self, deadline: Deadline) -> bool:
        incident = self._incidents[deadline.incident_id]
        return (incident.status is IncidentStatus.TRIGGERED
                and incident.escalation_due_at == deadline.at)

    def _new_incident(self, service: Service, event: AlertEvent, now: float) -> Incident:
        number = self._next("incident")
        dedup_key = event.dedup_key or _hex(f"dedup{self._next('dedup')}")
        details = {k: v for k, v in asdict(event).items()
                   if k not in ("routing_key", "action", "dedup_key", "summary", "source",
                                "severity") and v not in (None, [])}
        incident = Incident(
            "Q" + _digest(f"incident{number}", 13), number, dedup_key, service.routing_key,
            service.name, event.summary or "", event.source or "", event.severity or "",
            now, details)
        incident.transitions.append(Transition(now, IncidentStatus.TRIGGERED))
        self._incidents[incident.id] = incident
        self._open[(service.routing_key, dedup_key)] = incident.id
        return incident

    def _record(self, event: AlertEvent, dedup_key: str, outcome: str,
                incident_id: str | None) -> None:
        self._events.append(EventRecord(self.clock.now(), event.routing_key, event.action,
                                        dedup_key, outcome, incident_id))

    def _open_incident(self, dedup_key: str) -> Incident:
        found = [self._incidents[i] for (_, key), i in self._open.items() if key == dedup_key]
        if not found:
            raise NotFound(f"no open incident with dedup_key {dedup_key!r}")
        return max(found, key=lambda i: i.number)

    def _service(self, routing_key: str) -> Service:
        service = self.services.get(routing_key)
        if service is None:
            raise NotFound(f"no service with routing key {routing_key!r}")
        return service

    def _known(self, routing_key: str) -> Service:
        service = self.services.get(routing_key)
        if service is None:
            raise InvalidEvent("Invalid routing key")
        return service

    def _next(self, kind: str) -> int:
        # Counter-derived, never random: the same run mints the same ids and keys.
        self._counters[kind] += 1
        return self._counters[kind]


def _hex(text: str) -> str:
    """32 hex digits derived from ``text``, like the dedup keys PagerDuty generates."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _digest(text: str, length: int) -> str:
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rem = divmod(number, len(_UPPER))
        chars.append(_UPPER[rem])
    return "".join(chars)
