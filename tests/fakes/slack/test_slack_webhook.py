"""The fake Slack incoming webhook: ``ok`` in plain text, Slack's plain-text error codes,
messages kept per channel with virtual timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fakes.common.clock import ManualClock
from fakes.slack.backend import SlackBackend

ROLLBACK_TEXT = "🚨 ROLLBACK INITIATED - Contacts Redesign\n**Severity:** Critical"


def test_default_webhook_posts_to_incidents_and_answers_plain_ok(http, backend, clock):
    """200, ``text/plain`` body ``ok``; the message lands in #incidents at the virtual now."""
    clock.advance(90.0)
    response = http("POST", backend.default_webhook, json={"text": ROLLBACK_TEXT})
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["content-type"].startswith("text/plain")
    [message] = backend.messages("#incidents")
    assert (message.channel, message.text, message.at) == ("#incidents", ROLLBACK_TEXT, 90.0)


def test_ts_is_unix_time_of_the_virtual_clock_and_unique_per_channel(backend, clock):
    """Slack's ts: Unix seconds with six decimals; two posts in one instant still differ."""
    hook = backend.default_webhook
    first = backend.send_webhook(hook, {"text": "a"})
    second = backend.send_webhook(hook, {"text": "b"})
    clock.advance(1.5)
    third = backend.send_webhook(hook, {"text": "c"})
    epoch = int(datetime(2026, 1, 25, 14, 0, tzinfo=UTC).timestamp())
    assert first.ts == f"{epoch}.000000"
    assert second.ts == f"{epoch}.000001"
    assert third.ts == f"{epoch + 1}.500000"


def test_blocks_attachments_and_thread_ts_are_kept(http, backend):
    """Blocks alone, or attachments alone, are a message; thread_ts is recorded as sent."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Rollback*"}}]
    assert http("POST", backend.default_webhook, json={"blocks": blocks}).text == "ok"
    attachments = [{"fallback": "status", "color": "#ff0000", "text": "IN PROGRESS"}]
    assert http("POST", backend.default_webhook,
                json={"attachments": attachments, "thread_ts": "1769349600.000000"}).text == "ok"
    first, second = backend.messages()
    assert first.blocks == blocks and first.text is None
    assert second.attachments == attachments and second.thread_ts == "1769349600.000000"


def test_each_webhook_posts_to_its_own_channel(http, backend):
    """create_webhook(channel) returns a URL path; messages(channel) filters by channel."""
    ops = backend.create_webhook("ops-alerts")
    assert ops.startswith("/services/T") and ops != backend.default_webhook
    http("POST", ops, json={"text": "to ops"})
    http("POST", backend.default_webhook, json={"text": "to incidents"})
    assert [m.text for m in backend.messages("#ops-alerts")] == ["to ops"]
    assert [m.text for m in backend.messages("incidents")] == ["to incidents"]
    assert len(backend.messages()) == 2


def test_legacy_form_encoded_payload_is_accepted(http, backend):
    """``payload=<json>`` form bodies (old integrations) post like JSON ones."""
    response = http("POST", backend.default_webhook, data={"payload": '{"text": "form"}'})
    assert response.text == "ok"
    assert backend.messages()[0].text == "form"


@pytest.mark.parametrize(("body", "kwargs", "status", "code"), [
    ("bad json", {"content": b"{not json"}, 400, "invalid_payload"),
    ("a list", {"json": [{"text": "x"}]}, 400, "invalid_payload"),
    ("text not a string", {"json": {"text": 5}}, 400, "invalid_payload"),
    ("blocks not a list", {"json": {"blocks": {"type": "section"}}}, 400, "invalid_payload"),
    ("empty object", {"json": {}}, 400, "no_text"),
    ("empty text", {"json": {"text": ""}}, 400, "no_text"),
    ("empty blocks", {"json": {"blocks": []}}, 400, "no_text"),
])
def test_bad_payloads_get_plain_text_codes(http, backend, body, kwargs, status, code):
    """Malformed bodies are ``invalid_payload``; nothing to show is ``no_text``."""
    response = http("POST", backend.default_webhook, **kwargs)
    assert (response.status_code, response.text) == (status, code), body
    assert response.headers["content-type"].startswith("text/plain")
    assert backend.messages() == []


@pytest.mark.parametrize(("switch", "status", "code"), [
    ("archived", 410, "channel_is_archived"),
    ("posting_restricted", 403, "action_prohibited"),
    ("deleted", 404, "channel_not_found"),
])
def test_channel_state_errors(http, backend, switch, status, code):
    """An archived, restricted or deleted channel refuses the post with Slack's code."""
    backend.update_channel("#incidents", **{switch: True})
    response = http("POST", backend.default_webhook, json={"text": "x"})
    assert (response.status_code, response.text) == (status, code)
    backend.update_channel("#incidents", **{switch: False})
    assert http("POST", backend.default_webhook, json={"text": "x"}).text == "ok"


def test_unknown_or_revoked_webhook_is_no_service(http, backend):
    """An unknown URL is 404 ``no_service`` even with a bad body; so is a revoked hook."""
    unknown = http("POST", "/services/T0/B0/nope", content=b"{bad")
    assert (unknown.status_code, unknown.text) == (404, "no_service")
    assert http("POST", "/not/a/webhook", json={"text": "x"}).text == "no_service"
    hook = backend.create_webhook("#temp")
    backend.revoke_webhook(hook)
    revoked = http("POST", hook, json={"text": "x"})
    assert (revoked.status_code, revoked.text) == (404, "no_service")


def test_app_keeps_serving_after_bad_input(http, backend):
    """A refused post leaves nothing behind and the next good post is served."""
    assert http("POST", backend.default_webhook, content=b"\xff\xfe").status_code == 400
    assert http("POST", backend.default_webhook, json={}).status_code == 400
    assert http("POST", backend.default_webhook, json={"text": "fine"}).text == "ok"
    assert [m.text for m in backend.messages()] == ["fine"]


def test_control_plane_state_reset_webhooks_and_channels(http, backend):
    """/_fake creates hooks, flips channel switches, lists messages, and resets."""
    created = http("POST", "/_fake/webhooks", json={"channel": "#release"})
    assert created.status_code == 201
    url = created.json()["url"]
    assert http("POST", url, json={"text": "shipped"}).text == "ok"
    assert http("PATCH", "/_fake/channels/release", json={"archived": True}).json()["archived"]
    assert http("POST", url, json={"text": "again"}).status_code == 410
    assert [m["text"] for m in http("GET", "/_fake/messages",
                                    params={"channel": "#release"}).json()] == ["shipped"]
    state = http("GET", "/_fake/state").json()
    assert {c["name"] for c in state["channels"]} == {"#incidents", "#release"}
    assert http("POST", "/_fake/reset").json()["default_webhook"] == backend.default_webhook
    assert backend.messages() == [] and url not in backend.webhooks


def test_webhook_urls_are_deterministic():
    """Two fresh backends mint the same URLs in the same order (runs repeat exactly)."""
    a, b = SlackBackend(ManualClock()), SlackBackend(ManualClock())
    assert a.default_webhook == b.default_webhook
    assert a.create_webhook("#x") == b.create_webhook("#x")
