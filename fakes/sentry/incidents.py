"""The organization's alert rules at work: evaluations, incidents and outgoing webhooks.

``AlertBook`` holds the rules (validated by ``alerts.parse_alert_rule``), evaluates them
when its host says so (``evaluate``: the subscription updates Snuba has run by then,
``subscriptions``), opens, escalates and closes incidents, and queues one signed
``metric_alert`` webhook per change of incident status, plus the calls its PagerDuty and
Slack actions make (``integrations``). It knows nothing of how values
are computed: the backend hands it ``measure(rule, end) -> float | None``, ``end`` the
update's Unix timestamp.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import Any

from fakes.common.clock import Clock, to_datetime, to_iso
from fakes.sentry.alerts import (
    LEVELS,
    AlertRule,
    Evaluation,
    Incident,
    IncidentStatus,
    WebhookDelivery,
    describe,
    parse_alert_rule,
    serialize_rule,
    sign,
    webhook_rule,
)
from fakes.sentry.errors import NotFound
from fakes.sentry.integrations import Integrations, Notice
from fakes.sentry.subscriptions import delay_s, due_updates

ORGANIZATION_ID = "1"
STATUS_METHOD_RULE_TRIGGERED = 3
INCIDENT_TYPE_ALERT_TRIGGERED = 2
_NAMESPACE = uuid.UUID("6f1c0de2-5e4b-4c1a-9a57-5e4a7c0d2b11")


class AlertBook:
    """Alert rules, their incidents and the webhook outbox of one organization."""

    def __init__(self, clock: Clock, org: str, project_slug: str, webhook_secret: str,
                 webhook_url: str | None,
                 measure: Callable[[AlertRule, int], float | None],
                 integrations: Integrations | None = None) -> None:
        self.clock = clock
        self.integrations = integrations or Integrations()
        self.org = org
        self.project_slug = project_slug
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.installation_uuid = str(uuid.uuid5(_NAMESPACE, f"installation:{org}"))
        self._measure = measure
        self._rules: dict[int, AlertRule] = {}
        self._incidents: list[Incident] = []
        self._outbox: list[WebhookDelivery] = []
        self._next_rule = 1
        self._deliveries = 0

    def _iso(self, t: float) -> str:
        return to_iso(self.clock, t)

    def _iso_or_none(self, t: float | None) -> str | None:
        return None if t is None else to_iso(self.clock, t)

    def _rule(self, rule_id: Any) -> AlertRule:
        try:
            return self._rules[int(rule_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound() from None

    # --- the rules API ---------------------------------------------------------------

    def create_alert_rule(self, payload: Any) -> dict[str, Any]:
        """Validate and store a rule; raises ValidationError with Sentry's field errors."""
        rule = parse_alert_rule(payload, self._next_rule, self.clock.now(), self.project_slug)
        self._rules[rule.id] = rule
        self._next_rule += 1
        return serialize_rule(rule, self._iso)

    def list_alert_rules(self) -> list[dict[str, Any]]:
        return [serialize_rule(r, self._iso) for r in self._rules.values()]

    def get_alert_rule(self, rule_id: Any) -> dict[str, Any]:
        """Raises NotFound for an unknown id."""
        return serialize_rule(self._rule(rule_id), self._iso)

    def delete_alert_rule(self, rule_id: Any) -> None:
        """Remove a rule, closing its open incident silently; raises NotFound."""
        rule = self._rules.pop(self._rule(rule_id).id)
        incident = self._open_incident(rule)
        if incident is not None:
            incident.status, incident.date_closed = IncidentStatus.CLOSED, self.clock.now()

    def add_trigger_action(self, action: dict[str, Any], label: str) -> None:
        """Append ``action`` to the ``label`` trigger of every rule that has one."""
        for rule in self._rules.values():
            for trigger in rule.triggers:
                if trigger.label == label and action not in trigger.actions:
                    trigger.actions.append(dict(action))

    def rule_evaluations(self, rule_id: Any) -> list[Evaluation]:
        """The evaluation log of a rule: ``(t, value, status)`` per evaluation."""
        return list(self._rule(rule_id).evaluations)

    # --- evaluation -------------------------------------------------------------------

    def evaluate(self, catch_up: bool = False) -> list[dict[str, Any]]:
        """Evaluate, rule by rule and in order, every subscription update Snuba has run by
        now and the rule has not seen (``subscriptions.due_updates``); one record each.
        ``catch_up`` (the control plane's shortcut, never Sentry's behaviour) then also runs
        each rule's next update, stamped at the next multiple of its resolution after now,
        without waiting for it: its window takes in everything received."""
        now = self.clock.now()
        offset = self.clock.epoch.timestamp()
        results = []
        for rule in list(self._rules.values()):
            delay, r = delay_s(rule.dataset), rule.resolution * 60
            ends = list(due_updates(offset + now, r, delay, rule.last_update,
                                    offset + rule.date_created - delay))
            if catch_up:
                ends.append((math.floor((offset + now) / r) + 1) * r)
            for end in ends:
                results.append(self._evaluate(rule, end, now, end - offset))
        return results

    def _evaluate(self, rule: AlertRule, end: int, now: float,
                  end_t: float) -> dict[str, Any]:
        """One update: ``end`` its Unix timestamp, ``end_t`` the same in virtual seconds."""
        rule.last_update = end
        value = self._measure(rule, end)
        action = None
        if value is None:
            status = "no_data"
        else:
            before, after = rule.level(), rule.step(value)
            action = self._transition(rule, before, after, value, end_t)
            status = action or after or ("pending" if rule.pending() else "ok")
        rule.evaluations.append(Evaluation(now, value, status, end_t))
        return {"rule_id": str(rule.id), "name": rule.name, "t": now, "end": end_t,
                "value": value, "status": status, "action": action}

    def _transition(self, rule: AlertRule, before: str | None, after: str | None,
                    value: float, end: float) -> str | None:
        if before == after:
            return None
        # calculate_event_date_from_update_date: back by the window and the extra periods
        backdated = end - rule.time_window * 60 - rule.resolution * 60 * (rule.threshold_period - 1)
        incident = self._open_incident(rule)
        if after is None:
            assert incident is not None
            incident.status, incident.date_closed = IncidentStatus.CLOSED, backdated
            action = "resolved"
        else:
            if incident is None:
                incident = Incident(len(self._incidents) + 1, rule, rule.name,
                                    LEVELS[after], backdated, end)
                self._incidents.append(incident)
                rule.incident_id = incident.id
            incident.status, action = LEVELS[after], after
        self._queue(rule, incident, action, value, before)
        return action

    def _open_incident(self, rule: AlertRule) -> Incident | None:
        if rule.incident_id is None:
            return None
        incident = self._incidents[rule.incident_id - 1]
        if incident.status == IncidentStatus.CLOSED:
            return None
        return incident

    # --- incidents and webhooks -------------------------------------------------------

    def alert_incidents(self) -> list[dict[str, Any]]:
        """Incidents in Sentry's API shape, plus ``date_started``/``date_detected``/
        ``date_closed`` in virtual seconds and ``status_name``."""
        return [self._serialize_incident(i) for i in self._incidents]

    def _serialize_incident(self, incident: Incident) -> dict[str, Any]:
        return {
            "id": str(incident.id), "identifier": str(incident.id),
            "organizationId": ORGANIZATION_ID, "projects": incident.rule.projects,
            "alertRule": serialize_rule(incident.rule, self._iso),
            "status": int(incident.status), "statusMethod": STATUS_METHOD_RULE_TRIGGERED,
            "type": INCIDENT_TYPE_ALERT_TRIGGERED, "title": incident.title,
            "dateStarted": self._iso(incident.date_started),
            "dateDetected": self._iso(incident.date_detected),
            "dateCreated": self._iso(incident.date_detected),
            "dateClosed": self._iso_or_none(incident.date_closed),
            "status_name": incident.status.name.lower(),
            "date_started": incident.date_started, "date_detected": incident.date_detected,
            "date_closed": incident.date_closed,
        }

    def _webhook_urls(self, rule: AlertRule) -> list[str]:
        urls = [self.webhook_url] if self.webhook_url else []
        for trigger in rule.triggers:
            for action in trigger.actions:
                target = str(action.get("targetIdentifier") or "")
                if target.startswith(("http://", "https://")):
                    urls.append(target)
        return list(dict.fromkeys(urls))

    def _payload(self, rule: AlertRule, incident: Incident, action: str,
                 value: float) -> dict[str, Any]:
        metric_alert = {
            "id": str(incident.id), "identifier": str(incident.id),
            "organization_id": ORGANIZATION_ID, "projects": rule.projects,
            "title": incident.title, "status": int(incident.status),
            "status_method": STATUS_METHOD_RULE_TRIGGERED,
            "type": INCIDENT_TYPE_ALERT_TRIGGERED,
            "date_started": self._iso(incident.date_started),
            "date_detected": self._iso(incident.date_detected),
            "date_created": self._iso(incident.date_detected),
            "date_closed": self._iso_or_none(incident.date_closed),
            "alert_rule": webhook_rule(rule, self._iso),
        }
        return {
            "action": action,
            "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
            "installation": {"uuid": self.installation_uuid},
            "data": {
                "metric_alert": metric_alert,
                "description_text": describe(rule, value),
                "description_title": f"{action.capitalize()}: {rule.name}",
                "web_url": self._web_url(rule, incident),
            },
        }

    def _web_url(self, rule: AlertRule, incident: Incident) -> str:
        return f"https://{self.org}.sentry.io/alerts/rules/details/{rule.id}/?alert={incident.id}"

    def _queue(self, rule: AlertRule, incident: Incident, action: str, value: float,
               before: str | None = None) -> None:
        """Queue the app webhooks and the integrations' calls of one status change."""
        notice = Notice(action, rule.name, ORGANIZATION_ID, incident.id,
                        describe(rule, value), self._web_url(rule, incident),
                        to_datetime(self.clock, incident.date_started))
        self._outbox.extend(self.integrations.deliveries(
            _acting(rule, action, before), notice))
        urls = self._webhook_urls(rule)
        if not urls:
            return
        body = json.dumps(self._payload(rule, incident, action, value)).encode()
        timestamp = str(int(to_datetime(self.clock).timestamp()))
        for url in urls:
            self._deliveries += 1
            self._outbox.append(WebhookDelivery(url, {
                "Content-Type": "application/json",
                "Request-ID": str(uuid.uuid5(_NAMESPACE, f"delivery:{self._deliveries}")),
                "Sentry-Hook-Resource": "metric_alert",
                "Sentry-Hook-Timestamp": timestamp,
                "Sentry-Hook-Signature": sign(body, self.webhook_secret),
            }, body))

    def drain_webhooks(self) -> list[WebhookDelivery]:
        """Hand over the queued deliveries (oldest first) and empty the outbox."""
        out, self._outbox = self._outbox, []
        return out

    def state(self) -> dict[str, Any]:
        return {
            "alert_rules": [{"id": str(r.id), "name": r.name, "aggregate": r.aggregate,
                             "level": r.level(),
                             "evaluations": [list(e) for e in r.evaluations]}
                            for r in self._rules.values()],
            "incidents": self.alert_incidents(),
            "webhooks_queued": len(self._outbox),
        }


def _acting(rule: AlertRule, action: str, before: str | None) -> list[dict[str, Any]]:
    """The actions a status change runs, as Sentry's subscription processor runs them:
    a trigger's own when it fires (critical, warning), the critical trigger's when the
    incident steps down from critical to warning, every trigger's on resolve."""
    labels = {"critical": {"critical"}, "warning": {"warning"} | ({"critical"} if before ==
              "critical" else set())}.get(action, {t.label for t in rule.triggers})
    acting = [a for t in rule.triggers if t.label in labels for a in t.actions]
    return list({json.dumps(a, sort_keys=True): a for a in acting}.values())
