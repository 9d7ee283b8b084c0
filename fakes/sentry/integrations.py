"""Sentry's PagerDuty and Slack integrations as a metric alert's actions use them.

A trigger's action ``{"type": "pagerduty", "targetIdentifier": <service id>,
"integrationId": …}`` or ``{"type": "slack", "targetIdentifier": <channel>, …}`` makes
Sentry call the vendor at each change of the incident's status; ``Integrations`` holds
where the organization's integrations point (the PagerDuty services with their
integration keys, the Slack workspace's Web API and bot token) and builds those calls as
``WebhookDelivery`` items for the host to send, as it sends the app webhooks. What is
sent follows Sentry's source (github:getsentry/sentry):

- PagerDuty: ``POST {events}/v2/enqueue`` with ``build_incident_attachment``
  (``src/sentry/integrations/pagerduty/utils.py``): ``routing_key`` the service's
  integration key, ``event_action`` trigger (warning, critical) or resolve, ``dedup_key``
  ``incident_<org id>_<incident identifier>``, ``payload`` {summary: the rule's name,
  severity critical | warning | info, source: the identifier, custom_details: {details:
  the description}}, ``links`` [{href: the alert's URL, text: "Critical: <rule>"}].
- Slack: ``POST {api}/chat.postMessage``, form-encoded with the bot token
  (``send_incident_alert_notification``, ``src/sentry/integrations/slack/utils/
  notifications.py``): ``channel`` the action's target, ``text`` ``<url|*Critical:
  <rule>*>``, ``attachments`` JSON [{blocks: [a mrkdwn section "<description>\\n<!date^…^
  Started: …>"], color}] (``SlackIncidentsMessageBuilder``, ``message_builder/
  incidents.py``; colours ``INCIDENT_COLOR_MAPPING``/``LEVEL_TO_COLOR``, ``message_builder/
  types.py``), ``unfurl_links``/``unfurl_media`` false.

An action whose integration is not connected sends nothing (Sentry logs and skips it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fakes.sentry.alerts import WebhookDelivery

PAGERDUTY_INTEGRATION_ID = 1
SLACK_INTEGRATION_ID = 2
# message_builder/types.py: INCIDENT_COLOR_MAPPING through LEVEL_TO_COLOR
SLACK_COLORS = {"Resolved": "#4DC771", "Warning": "#FFC227", "Critical": "#FA4747"}
SEVERITY = {"critical": "critical", "warning": "warning", "resolved": "info"}


@dataclass(frozen=True)
class Notice:
    """One change of an incident's status, as every integration describes it."""

    action: str  # critical | warning | resolved
    rule_name: str
    organization_id: str
    identifier: int
    description: str
    link: str
    date_started: datetime

    @property
    def status(self) -> str:
        return self.action.capitalize()

    @property
    def title(self) -> str:
        return f"{self.status}: {self.rule_name}"


@dataclass
class Integrations:
    """Where the organization's PagerDuty and Slack integrations point."""

    pagerduty_url: str | None = None  # the Events API base (https://events.pagerduty.com)
    pagerduty_services: dict[str, tuple[str, str]] = field(default_factory=dict)
    slack_url: str | None = None  # the Web API base (https://slack.com/api)
    slack_token: str | None = None

    def connect_pagerduty(self, events_url: str, service_name: str,
                          integration_key: str) -> dict[str, Any]:
        """Install PagerDuty (its Events API at ``events_url``) with one more service;
        returns the action that pages that service, for a trigger's ``actions``."""
        self.pagerduty_url = events_url
        service_id = str(len(self.pagerduty_services) + 1)
        self.pagerduty_services[service_id] = (service_name, integration_key)
        return {"type": "pagerduty", "targetType": "specific", "targetIdentifier": service_id,
                "integrationId": PAGERDUTY_INTEGRATION_ID}

    def connect_slack(self, api_url: str, bot_token: str, channel: str) -> dict[str, Any]:
        """Install Slack (the workspace's Web API at ``api_url``, its bot token); returns
        the action that posts to ``channel``."""
        self.slack_url, self.slack_token = api_url, bot_token
        return {"type": "slack", "targetType": "specific", "targetIdentifier": channel,
                "integrationId": SLACK_INTEGRATION_ID}

    def deliveries(self, actions: list[dict[str, Any]], notice: Notice) -> list[WebhookDelivery]:
        """The calls the ``pagerduty`` and ``slack`` actions among ``actions`` make."""
        out = []
        for action in actions:
            kind, target = action.get("type"), str(action.get("targetIdentifier") or "")
            if kind == "pagerduty":
                out += self._pagerduty(target, notice)
            elif kind == "slack":
                out += self._slack(target, notice)
        return out

    def _pagerduty(self, service_id: str, notice: Notice) -> list[WebhookDelivery]:
        service = self.pagerduty_services.get(service_id)
        if self.pagerduty_url is None or service is None:
            return []
        event = {
            "routing_key": service[1],
            "event_action": "resolve" if notice.action == "resolved" else "trigger",
            "dedup_key": f"incident_{notice.organization_id}_{notice.identifier}",
            "payload": {"summary": notice.rule_name, "severity": SEVERITY[notice.action],
                        "source": str(notice.identifier),
                        "custom_details": {"details": notice.description}},
            "links": [{"href": notice.link, "text": notice.title}]}
        return [WebhookDelivery(self.pagerduty_url.rstrip("/") + "/v2/enqueue",
                                {"Content-Type": "application/json"},
                                json.dumps(event).encode())]

    def _slack(self, channel: str, notice: Notice) -> list[WebhookDelivery]:
        if self.slack_url is None or not self.slack_token or not channel:
            return []
        started = "<!date^{:.0f}^Started: {} at {} | Sentry Incident>".format(
            notice.date_started.timestamp(), "{date_pretty}", "{time}")
        attachment = {"blocks": [{"type": "section", "text": {
            "type": "mrkdwn", "text": f"{notice.description}\n{started}"}}],
            "color": SLACK_COLORS[notice.status]}
        form = {"channel": channel, "text": f"<{notice.link}|*{notice.title}*>",
                "attachments": json.dumps([attachment]), "unfurl_links": "false",
                "unfurl_media": "false"}
        return [WebhookDelivery(self.slack_url.rstrip("/") + "/chat.postMessage", {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Bearer {self.slack_token}"}, urlencode(form).encode())]
