"""End to end with Slack's own ``slack_sdk.webhook.WebhookClient`` against the fake on
127.0.0.1 (http; the client accepts any URL). Skipped unless ``slack_sdk`` is installed.

Rules checked: ``send(text=...)`` gets status 200 and body ``ok`` and the message is
stored in the webhook's channel; blocks go through; an archived channel comes back as
the client's response (it does not raise) with 410 ``channel_is_archived``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.common.clock import ManualClock
from fakes.slack.backend import SlackBackend
from fakes.slack.router import build_app
from tests.servers import serve_in_thread

webhook = pytest.importorskip("slack_sdk.webhook")


@pytest.fixture
def served() -> Iterator[tuple[SlackBackend, str]]:
    backend = SlackBackend(ManualClock(start=120.0))
    with serve_in_thread(build_app(backend)) as base_url:
        yield backend, base_url


def test_slack_sdk_webhook_client_send_gets_200_ok(served):
    """WebhookClient(url).send(text=...) → status 200, body "ok"; stored in #incidents."""
    backend, base_url = served
    client = webhook.WebhookClient(base_url + backend.default_webhook)
    response = client.send(text="🚨 ROLLBACK INITIATED - Contacts Redesign")
    assert (response.status_code, response.body) == (200, "ok")
    [message] = backend.messages("#incidents")
    assert message.text == "🚨 ROLLBACK INITIATED - Contacts Redesign" and message.at == 120.0


def test_slack_sdk_webhook_client_sends_blocks(served):
    """Blocks built by the caller arrive intact (with the fallback text)."""
    backend, base_url = served
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Status:* IN PROGRESS"}}]
    client = webhook.WebhookClient(base_url + backend.default_webhook)
    response = client.send(text="Rollback status", blocks=blocks)
    assert response.status_code == 200
    assert backend.messages()[0].blocks == blocks


def test_slack_sdk_webhook_client_reports_archived_channel(served):
    """The client returns (not raises) 410 with the plain-text code as its body."""
    backend, base_url = served
    backend.update_channel("#incidents", archived=True)
    response = webhook.WebhookClient(base_url + backend.default_webhook).send(text="x")
    assert (response.status_code, response.body) == (410, "channel_is_archived")


def test_slack_sdk_web_client_chat_post_message_posts_as_the_bot(served):
    """Rule (api.slack.com/methods/chat.postMessage): ``WebClient(token,
    base_url=…/api/).chat_postMessage(channel, text, attachments)`` answers ``ok`` with the
    channel's id and the message's ``ts``; the message lands in the channel, named by
    ``#name`` or by that id."""
    from slack_sdk import WebClient

    from fakes.slack.backend import channel_id

    backend, base_url = served
    client = WebClient(token=backend.bot_token, base_url=base_url + "/api/")
    attachments = [{"color": "#FA4747", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "62 events"}}]}]
    first = client.chat_postMessage(channel="#incidents", text="Critical: errors",
                                    attachments=attachments)
    assert first["ok"] and first["channel"] == channel_id("#incidents") and first["ts"]
    again = client.chat_postMessage(channel=first["channel"], text="by id")
    assert again["ok"]
    texts = [(m.text, m.attachments) for m in backend.messages("#incidents")]
    assert texts == [("Critical: errors", attachments), ("by id", None)]


@pytest.mark.parametrize(("token", "channel", "error"), [
    ("xoxb-wrong", "#incidents", "invalid_auth"), ("", "#incidents", "not_authed"),
    (None, "#nowhere", "channel_not_found"), (None, "#archived", "is_archived")])
def test_slack_sdk_web_client_gets_the_web_apis_errors(served, token, channel, error):
    """Rule (chat.postMessage "Errors"): a wrong token is ``invalid_auth``, none is
    ``not_authed``, an unknown channel ``channel_not_found``, an archived one
    ``is_archived``; slack_sdk raises SlackApiError with that code, nothing is stored."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    backend, base_url = served
    backend.update_channel("#archived", archived=True)
    client = WebClient(token=backend.bot_token if token is None else token,
                       base_url=base_url + "/api/")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=channel, text="x")
    assert raised.value.response["error"] == error
    assert backend.messages() == []
