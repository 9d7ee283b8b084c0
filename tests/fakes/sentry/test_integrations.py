"""Sentry's PagerDuty and Slack actions: what a metric alert's status changes send."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from tests.fakes.sentry.test_alerts import error_rate_rule, run_minutes

KEY = "a" * 32


def _connected(backend) -> None:
    pd = backend.integrations.connect_pagerduty("https://pd.test", "contacts-web", KEY)
    slack = backend.integrations.connect_slack("http://slack.test/api", "xoxb-t", "#incidents")
    backend.create_alert_rule(error_rate_rule(triggers=[
        {"label": "critical", "alertThreshold": 20, "actions": [pd, slack]}]))


def test_firing_and_resolving_trigger_then_resolve_pagerduty_and_post_to_slack(backend,
                                                                              clock):
    """Rule (Sentry's pagerduty/utils.py ``build_incident_attachment``, slack/utils/
    notifications.py): on critical, an Events v2 ``trigger`` with the service's key, dedup
    key ``incident_<org>_<id>``, severity critical and the rule's name as summary, and a
    ``chat.postMessage`` form with the bot token, "Critical: <rule>" and the red
    attachment; on resolve, a ``resolve`` with the same dedup key and a green
    "Resolved" message. The app webhook is sent as before."""
    _connected(backend)
    run_minutes(backend, clock, range(21), lambda m: 30 if 10 <= m <= 12 else 0)
    sent = backend.drain_webhooks()
    pd = [json.loads(d.body) for d in sent if d.url == "https://pd.test/v2/enqueue"]
    assert [(e["event_action"], e["payload"]["severity"]) for e in pd] == \
        [("trigger", "critical"), ("resolve", "info")]
    assert {e["dedup_key"] for e in pd} == {"incident_1_1"}
    assert pd[0]["routing_key"] == KEY and pd[0]["payload"]["summary"] == "Contacts error rate"
    assert pd[0]["links"][0]["text"] == "Critical: Contacts error rate"
    slack = [d for d in sent if d.url == "http://slack.test/api/chat.postMessage"]
    assert all(d.headers["Authorization"] == "Bearer xoxb-t" for d in slack)
    forms = [{k: v[0] for k, v in parse_qs(d.body.decode()).items()} for d in slack]
    assert [f["channel"] for f in forms] == ["#incidents", "#incidents"]
    assert "*Critical: Contacts error rate*" in forms[0]["text"]
    assert "*Resolved: Contacts error rate*" in forms[1]["text"]
    colors = [json.loads(f["attachments"])[0]["color"] for f in forms]
    assert colors == ["#FA4747", "#4DC771"]
    assert len([d for d in sent if d.url.endswith("/hooks/sentry")]) == 2


def test_an_action_without_a_connected_integration_sends_nothing(backend, clock):
    """Rule: as Sentry skips an action whose integration is gone, a ``pagerduty`` or
    ``slack`` action with nothing connected sends no call (drills connect none)."""
    backend.create_alert_rule(error_rate_rule(triggers=[
        {"label": "critical", "alertThreshold": 20, "actions": [
            {"type": "pagerduty", "targetIdentifier": "1"},
            {"type": "slack", "targetIdentifier": "#incidents"}]}]))
    run_minutes(backend, clock, range(15), lambda m: 30 if 10 <= m <= 12 else 0)
    assert all(d.url.endswith("/hooks/sentry") for d in backend.drain_webhooks())
