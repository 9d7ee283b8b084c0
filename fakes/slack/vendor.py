"""Fake Slack: the incident channel's incoming webhook (for the incident commander)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.common.descriptor import Start, Vendor
from fakes.slack.backend import SlackBackend

if TYPE_CHECKING:
    from fastapi import FastAPI


def create(start: Start) -> SlackBackend:
    return SlackBackend(start.clock)


def app(backend: SlackBackend, live: bool) -> FastAPI:
    from fakes.slack.router import build_app

    return build_app(backend)


def env(slack: SlackBackend, url: str) -> dict[str, str]:
    return {"SLACK_WEBHOOK_URL": url + slack.default_webhook}


SLACK = Vendor("slack", create, app, env)
