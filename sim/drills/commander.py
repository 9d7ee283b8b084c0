"""The incident commander: who is told what, and when, during a drill's incident.

``IncidentCommander`` runs the runbook's communications and escalation path as a SimPy
process beside the responder. The runner calls its hooks as the incident unfolds
(``on_alert``, ``on_decision``, ``on_rollback_failed``, ``on_recovered``); its own
process posts an update every ``update_interval`` when nothing else was said, has the
page acknowledged, and reports the pages PagerDuty escalates when nobody acknowledges.
Who acknowledges, and when, is ``rollout.incident.escalation.first_acknowledgement``:
each level paged draws its own delay, and a level that does not acknowledge within
``escalation_timeout`` hands the page to the next; ``acknowledged`` (an event) fires then,
and a human responder's decision delay starts only after it. Messages are
``rollout.incident.comms`` texts sent over HTTP to the Slack, Statuspage and PagerDuty
fakes; who is told and why comes from ``rollout.incident.escalation``.

Hooks only schedule: the sends run in a SimPy process at the same virtual time, so a
hook may be called from inside an in-process ASGI handler (the pager hears alerts there).

Journal records: ``comms_slack``, ``comms_statuspage``, ``comms_pagerduty`` (each send,
with its content), ``notified`` and ``escalated`` (who, why, by which channel) and
``comms_failed`` (a send a vendor refused: the drill goes on). The three fakes and the
endpoints the commander takes come from the drill world (``sim.world.fakes.CommsFakes``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Mapping
from datetime import datetime
from typing import Any

import httpx
import numpy as np
import simpy

from fakes.common.clock import Clock, to_datetime
from rollout.clients.errors import VendorError
from rollout.clients.pagerduty import PagerDutyEvents
from rollout.clients.slack import SlackWebhook
from rollout.clients.statuspage import StatuspageAPI
from rollout.incident import comms
from rollout.incident.decision import Decision, Severity
from rollout.incident.escalation import (
    CHAIN,
    Acknowledgement,
    IncidentDetected,
    Notify,
    Role,
    RollbackFailed,
    RollbackInitiated,
    Unacknowledged,
    first_acknowledgement,
    who_to_notify,
)
from sim.drills.paging import IncidentSpec
from sim.journal import Journal
from sim.scenario.paths import path_spec

ENDPOINT_KEYS = ("slack_webhook_url", "statuspage_base", "statuspage_api_key",
                 "statuspage_page_id", "pagerduty_base", "pagerduty_routing_key")
_SLACK_STATUS = {"investigating": "INVESTIGATING", "identified": "IN PROGRESS",
                 "monitoring": "MONITORING", "resolved": "RESOLVED"}


class IncidentCommander:
    """Communications and escalation for one drill; start ``run()`` as a SimPy process.

    ``opened`` and ``resolved`` are events (value: the virtual time) a runner may wait on.
    """

    def __init__(self, env: simpy.Environment, journal: Journal, http: httpx.Client,
                 endpoints: Mapping[str, str], clock: Clock, rng: np.random.Generator,
                 spec: IncidentSpec | None = None) -> None:
        missing = [k for k in ENDPOINT_KEYS if not endpoints.get(k)]
        if missing:
            raise KeyError(f"incident endpoints lack {', '.join(missing)}")
        self.env, self.journal, self.http, self.clock, self.rng = env, journal, http, clock, rng
        self.spec = spec or IncidentSpec()
        self.slack = SlackWebhook(http, endpoints["slack_webhook_url"])
        self.statuspage = StatuspageAPI(http, endpoints["statuspage_base"],
                                        endpoints["statuspage_api_key"])
        self.page_id = endpoints["statuspage_page_id"]
        self.pagerduty = PagerDutyEvents(http, endpoints["pagerduty_base"],
                                         endpoints["pagerduty_routing_key"])
        self._pd_control = endpoints["pagerduty_base"].rstrip("/") + "/_fake"
        self.opened, self.resolved = env.event(), env.event()
        self.acknowledged = env.event()  # value: the Acknowledgement
        self._poke = env.event()
        self.title, self.severity, self.dedup_key = "alert", "critical", "contacts-redesign"
        self.status: str | None = None
        self._incident_id: str | None = None
        self._component_id: str | None = None
        self._last_post = self._opened_at = 0.0
        self._recovered = False
        self._seen_pages = 0

    # ---- hooks the runner calls ------------------------------------------------------

    def on_alert(self, payload: dict[str, Any]) -> None:
        """The first alert that is not a resolution opens the incident: PagerDuty trigger
        (pages the Incident Lead), Statuspage incident "investigating"."""
        self._later(self._alert, payload)

    def on_decision(self, decision: Decision, affected_pct: float | str | None = None,
                    issue: str | None = None) -> None:
        """A rollback decision: Slack "ROLLBACK INITIATED", Statuspage "identified", notify
        the DevOps Lead. ``affected_pct`` defaults to the journal's exposure at the fault;
        a decision to investigate is posted as an update."""
        self._later(self._decision, decision, affected_pct, issue)

    def on_rollback_failed(self, where: str, error: str) -> None:
        """Escalate to the CTO: PagerDuty escalation to the CTO's level, and Slack."""
        self._later(self._rollback_failed, where, error)

    def on_recovered(self) -> None:
        """The previous version serves users again, healthy (the drill calls this only
        then, never while the app is down): Statuspage "monitoring" ("back for everyone"),
        Slack update; after the monitoring period PagerDuty resolve, Statuspage
        "resolved", Slack."""
        self._later(self._recovery)

    def _later(self, step: Callable[..., None], *args: Any) -> None:
        # A hook may be called inside an in-process ASGI handler (the pager's webhook),
        # where a nested HTTP call would re-enter the transport's running event loop: the
        # sends run in a SimPy process at the same virtual time, in call order.
        def act() -> Generator[simpy.Event, Any, None]:
            step(*args)
            yield from ()

        self.env.process(act())

    # ---- what the hooks do -----------------------------------------------------------

    def _alert(self, payload: dict[str, Any]) -> None:
        if self.opened.triggered or payload.get("action") == "resolved":
            return
        alert = (payload.get("data") or {}).get("metric_alert") or {}
        title = alert.get("title") or (alert.get("alert_rule") or {}).get("name") or "alert"
        severity = "critical" if payload.get("action") == "critical" else "warning"
        self._open(str(title), severity, str(alert.get("id") or "1"))

    def _decision(self, decision: Decision, affected_pct: float | str | None,
                  issue: str | None) -> None:
        if not self.opened.triggered:
            critical = decision.severity is Severity.CRITICAL
            self._open(decision.reason, "critical" if critical else "warning", "decision")
        if decision.action != "rollback":
            self._update(f"Non-critical: {decision.reason}.")
            return
        actions, eta = comms.rollback_actions(path_spec(decision.path).comms)
        text = comms.rollback_slack_message(
            comms.slack_severity(decision.severity), self._now(), self._affected(affected_pct),
            issue or f"Sentry alert '{self.title}' fired ({self.severity}).", actions, eta,
            "IN PROGRESS", self.spec.incident_lead, self.spec.update_interval / 60)
        self._slack(text, "rollback_initiated")
        self._set_status("identified", comms.statuspage_body("identified",
                                                             self.spec.restore_timeframe))
        self._notify_by_slack(who_to_notify(RollbackInitiated(str(decision.path))))

    def _rollback_failed(self, where: str, error: str) -> None:
        notice = who_to_notify(RollbackFailed(where, error))
        assert notice is not None
        sent = self._send("comms_pagerduty", lambda: self._control(
            "POST", f"/incidents/{self.dedup_key}/escalate", {"level": notice.level}),
            action="escalate", dedup_key=self.dedup_key, level=notice.level,
            target=notice.role.value)
        via = ["slack"] + (["pagerduty"] if sent is not None else [])
        self._journal_notice(notice, via)
        self._slack_notice(notice)
        self._wake_pager()

    def _recovery(self) -> None:
        if not self.opened.triggered or self._recovered:
            return
        self._recovered = True
        self._set_status("monitoring", comms.statuspage_body("monitoring"), "operational")
        self._slack(comms.slack_update_message(
            self._now(), "Rollback complete: the previous version is up and serves "
            "every user again, none the faulty version. "
            f"Monitoring for {comms.minutes_text(self.spec.monitoring_period / 60)}.",
            "MONITORING", self.spec.incident_lead, self.spec.update_interval / 60), "monitoring")
        self.env.process(self._resolve_later())

    # ---- the process -----------------------------------------------------------------

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Wait for the incident, then watch the pager and keep the updates coming."""
        yield self.opened
        self.env.process(self._pager())
        while not self.resolved.triggered:
            due = self._last_post + self.spec.update_interval
            yield self.env.any_of([self.env.timeout(max(0.0, due - self.env.now)),
                                   self.resolved])
            if not self.resolved.triggered and \
                    self.env.now >= self._last_post + self.spec.update_interval - 1e-9:
                self._update(comms.statuspage_update_body(self.status or "investigating"))

    def _pager(self) -> Generator[simpy.Event, Any, None]:
        """Acknowledge when the chain's first acknowledgement falls due; meanwhile record
        every escalation the policy sends, at the time it falls due."""
        ack = first_acknowledgement(self._opened_at, self._draw_ack_delay,
                                    self.spec.escalation_timeout)
        ack_at = None if ack is None else ack.at
        while not self.resolved.triggered:
            due = [t for t in (ack_at, self._pd_incident().get("escalation_due_at"))
                   if t is not None]
            waits = [self.resolved, self._poke]
            if due:
                waits.append(self.env.timeout(max(0.0, min(due) - self.env.now)))
            yield self.env.any_of(waits)
            if self._poke.triggered:
                self._poke = self.env.event()
            self._record_escalations()
            if ack is not None and ack_at is not None and self.env.now >= ack_at and \
                    not self.resolved.triggered:
                self._acknowledge(ack)
                ack_at = None

    def _draw_ack_delay(self, level: int) -> float | None:
        delay = self.spec.ack_delay if level == 1 else self.spec.escalated_ack_delay
        return delay(self.rng)

    def _resolve_later(self) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.spec.monitoring_period)
        self._send("comms_pagerduty", lambda: self.pagerduty.resolve(self.dedup_key),
                   action="resolve", dedup_key=self.dedup_key)
        self._set_status("resolved", comms.statuspage_body("resolved",
                                                           self.spec.restore_timeframe))
        self._slack(comms.slack_update_message(
            self._now(), "Incident resolved after the monitoring period.", "RESOLVED",
            self.spec.incident_lead, None, title="RESOLVED"), "resolved")
        self.resolved.succeed(self.env.now)

    # ---- steps -----------------------------------------------------------------------

    def _open(self, title: str, severity: str, alert_id: str) -> None:
        self.title, self.severity = title, severity
        self.dedup_key = f"contacts-redesign-{alert_id}"
        summary = f"{comms.FEATURE}: Sentry alert '{title}' ({severity})"
        self._send("comms_pagerduty", lambda: self.pagerduty.trigger(
            self.dedup_key, summary, "sentry", severity, self._now(),
            component="contacts", custom_details={"alert": title}),
            action="trigger", dedup_key=self.dedup_key, summary=summary)
        notice = who_to_notify(IncidentDetected(title))
        assert notice is not None
        self._journal_notice(notice, ["pagerduty"])
        self._seen_pages = 1  # the trigger's own page to level 1
        self._component_id = self._contacts_component()
        components = {self._component_id: "partial_outage"} if self._component_id else None
        created = self._send("comms_statuspage", lambda: self.statuspage.create_incident(
            self.page_id, comms.statuspage_incident(
                "investigating", comms.statuspage_body("investigating"),
                name=comms.STATUSPAGE_TITLE, components=components)),
            action="create", status="investigating", name=comms.STATUSPAGE_TITLE,
            body=comms.statuspage_body("investigating"))
        self._incident_id = None if created is None else str(created["id"])
        self.status, self._last_post = "investigating", self.env.now
        self._opened_at = self.env.now
        self.opened.succeed(self.env.now)

    def _set_status(self, status: str, body: str, component: str | None = None) -> None:
        components = {self._component_id: component} if component and self._component_id \
            else None
        self._post_statuspage(status, body, components)
        self.status = status

    def _update(self, text: str) -> None:
        """A periodic update, same status: Statuspage and Slack."""
        status = self.status or "investigating"
        self._post_statuspage(status, text, None)
        self._slack(comms.slack_update_message(
            self._now(), text, _SLACK_STATUS.get(status, status.upper()),
            self.spec.incident_lead, self.spec.update_interval / 60), "update")

    def _post_statuspage(self, status: str, body: str,
                         components: dict[str, str] | None) -> None:
        self._last_post = self.env.now
        incident_id = self._incident_id
        if incident_id is None:
            self.journal.add("comms_failed", channel="statuspage", status=status,
                             error="no Statuspage incident was opened")
            return
        self._send("comms_statuspage", lambda: self.statuspage.update_incident(
            self.page_id, incident_id, comms.statuspage_incident(
                status, body, components=components)),
            action="update", status=status, incident_id=incident_id, body=body)

    def _acknowledge(self, ack: Acknowledgement) -> None:
        """The person paged acknowledges (in the PagerDuty app, whatever the API says)."""
        incident = self._pd_incident()
        level = int(incident.get("level") or ack.level)
        by = CHAIN[level - 1] if level <= len(CHAIN) else None
        self._send("comms_pagerduty", lambda: self.pagerduty.acknowledge(self.dedup_key),
                   action="acknowledge", dedup_key=self.dedup_key, level=level,
                   by=by.value if by else str(level),
                   name=self.spec.contacts.name(by) if by else "",
                   paged_at=round(ack.paged_at, 3))
        self.acknowledged.succeed(ack)

    def _record_escalations(self) -> None:
        """Journal (and tell Slack about) each page the policy sent since the last look."""
        try:
            pages = self._control("GET", "/notifications", params={"dedup_key": self.dedup_key})
        except (VendorError, httpx.HTTPError) as exc:
            self.journal.add("comms_failed", channel="pagerduty", action="notifications",
                             error=str(exc))
            return
        for previous, page in itertools.pairwise(pages[self._seen_pages - 1:]):
            if page["reason"] != "escalated" or previous["target"] not in set(CHAIN):
                continue
            notice = who_to_notify(Unacknowledged(Role(previous["target"]), previous["at"],
                                                  page["at"] - previous["at"]))
            if notice is not None:
                self._journal_notice(notice, ["pagerduty", "slack"], paged_at=page["at"])
                self._slack_notice(notice)
        self._seen_pages = max(self._seen_pages, len(pages))

    def _notify_by_slack(self, notice: Notify | None) -> None:
        if notice is not None:
            self._journal_notice(notice, ["slack"])
            self._slack_notice(notice)

    def _journal_notice(self, notice: Notify, via: list[str], **extra: Any) -> None:
        kind = "escalated" if notice.action == "escalate" else "notified"
        fields = {"role": notice.role.value, "name": self.spec.contacts.name(notice.role),
                  "level": notice.level, "step": notice.step, "via": via,
                  "reason": notice.reason, **extra}
        self.journal.add(kind, **fields)

    def _slack_notice(self, notice: Notify) -> None:
        self._slack(comms.slack_escalation_message(
            self._now(), notice.action, notice.role.label,
            self.spec.contacts.name(notice.role), notice.reason), notice.action)

    def _slack(self, text: str, purpose: str) -> None:
        self._send("comms_slack", lambda: self.slack.post(text), purpose=purpose,
                   title=text.splitlines()[0], text=text)

    # ---- plumbing --------------------------------------------------------------------

    def _send(self, kind: str, call: Callable[[], Any], **summary: Any) -> Any:
        """Make one call; journal ``kind`` with ``summary``, or ``comms_failed``."""
        try:
            result = call()
        except (VendorError, httpx.HTTPError) as exc:
            self.journal.add("comms_failed", channel=kind.removeprefix("comms_"),
                             error=str(exc), **summary)
            return None
        self.journal.add(kind, **summary)
        return result

    def _control(self, method: str, path: str, json: Any = None,
                 params: dict[str, str] | None = None) -> Any:
        """The PagerDuty fake's control plane (escalation state; the Events API has none)."""
        response = self.http.request(method, self._pd_control + path, json=json, params=params)
        if not response.is_success:
            raise VendorError("pagerduty", method, path, response.status_code, response.text)
        return response.json()

    def _pd_incident(self) -> dict[str, Any]:
        try:
            incidents = self._control("GET", "/incidents")
        except (VendorError, httpx.HTTPError):
            return {}
        ours = [i for i in incidents if i["dedup_key"] == self.dedup_key]
        return dict(ours[-1]) if ours else {}

    def _contacts_component(self) -> str | None:
        try:
            components = self.statuspage.list_components(self.page_id)
        except (VendorError, httpx.HTTPError):
            return None
        return next((str(c["id"]) for c in components if c["name"] == "Contacts"), None)

    def _affected(self, given: float | str | None) -> float | str:
        if given is not None:
            return given
        fault = self.journal.first("fault_started")
        exposure = None if fault is None else fault.data.get("exposure_pct")
        return "unknown" if exposure is None else float(exposure)

    def _wake_pager(self) -> None:
        if not self._poke.triggered:
            self._poke.succeed()

    def _now(self) -> datetime:
        return to_datetime(self.clock)
