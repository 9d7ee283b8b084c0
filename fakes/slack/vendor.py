"""Fake Slack: the incident channel's incoming webhook (for the incident commander) and
the Web API's ``chat.postMessage`` for a bot token (``slack_sdk.WebClient(token,
base_url=SLACK_API_URL)``; Sentry's Slack app)."""

from __future__ import annotations

from fakes.common.descriptor import Start, Vendor
from fakes.slack.backend import SlackBackend


def create(start: Start) -> SlackBackend:
    return SlackBackend(start.clock)


def env(slack: SlackBackend, url: str) -> dict[str, str]:
    return {"SLACK_WEBHOOK_URL": url + slack.default_webhook,
            "SLACK_API_URL": url + "/api/", "SLACK_BOT_TOKEN": slack.bot_token}


SLACK = Vendor("slack", create, env)
