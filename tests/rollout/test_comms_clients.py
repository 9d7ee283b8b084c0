"""The comms clients (Slack, Statuspage, PagerDuty): what they send, and their errors."""

from __future__ import annotations

import json

import httpx
import pytest

from rollout.clients.errors import VendorError
from rollout.clients.pagerduty import PagerDutyEvents
from rollout.clients.slack import SlackWebhook
from rollout.clients.statuspage import StatuspageAPI


def _client(status: int, body: str, content_type: str = "application/json") -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body.encode(),
                              headers={"content-type": content_type})

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_clients_raise_vendor_error_on_non_2xx() -> None:
    """Rule: every comms client raises VendorError with the vendor's status and message."""
    with pytest.raises(VendorError) as slack:
        SlackWebhook(_client(410, "channel_is_archived", "text/plain"),
                           "http://slack.test/services/T/B/x").post("hi")
    assert (slack.value.vendor, slack.value.status) == ("slack", 410)
    assert slack.value.message == "channel_is_archived"
    with pytest.raises(VendorError) as sp:
        StatuspageAPI(_client(401, json.dumps({"error": "Could not authenticate"})),
                            "http://sp.test", "bad").create_incident("p", {})
    assert (sp.value.status, sp.value.message) == (401, "Could not authenticate")
    with pytest.raises(VendorError) as pd:
        PagerDutyEvents(_client(400, json.dumps({"status": "invalid event",
                                                       "message": "Event object is invalid"})),
                              "http://pd.test", "k").resolve("dd")
    assert (pd.value.vendor, pd.value.status) == ("pagerduty", 400)


def test_clients_send_what_the_vendors_expect() -> None:
    """Rule: Statuspage gets ``OAuth <key>`` under /v1; PagerDuty gets /v2/enqueue;
    Slack gets a JSON ``text``."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "pd.test":
            return httpx.Response(202, json={"status": "success", "dedup_key": "dd"})
        return httpx.Response(200, text="ok") if request.url.host == "slack.test" \
            else httpx.Response(201, json={"id": "i1"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    SlackWebhook(http, "http://slack.test/services/T/B/x").post("hello")
    StatuspageAPI(http, "http://sp.test", "key").create_incident("p1", {"incident": {}})
    assert PagerDutyEvents(http, "http://pd.test", "k").acknowledge("dd") == "dd"
    slack, sp, pd = seen
    assert json.loads(slack.content) == {"text": "hello"}
    assert sp.url.path == "/v1/pages/p1/incidents"
    assert sp.headers["authorization"] == "OAuth key"
    assert pd.url.path == "/v2/enqueue"
