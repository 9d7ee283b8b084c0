"""Fake Slack: the incident channel's incoming webhook (for the incident commander)."""

from __future__ import annotations

from fakes.common.descriptor import Start, Vendor
from fakes.slack.backend import SlackBackend


def create(start: Start) -> SlackBackend:
    return SlackBackend(start.clock)


def env(slack: SlackBackend, url: str) -> dict[str, str]:
    return {"SLACK_WEBHOOK_URL": url + slack.default_webhook}


SLACK = Vendor("slack", create, env)
