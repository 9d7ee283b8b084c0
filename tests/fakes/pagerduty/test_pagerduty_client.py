"""End to end with PagerDuty's own Python client (``pagerduty.EventsApiV2Client``)
against the fake served by uvicorn over TLS on 127.0.0.1. Skipped unless ``pagerduty``
is installed.

Rules checked: the client refuses http (hence TLS); trigger without a dedup_key returns
the fake's generated key; trigger/acknowledge/resolve move the incident with their
virtual times; a change event is accepted; a 400 ``invalid event`` surfaces as the
client's ``HttpError`` carrying the fake's body.
"""

from __future__ import annotations

import ssl

import pytest

from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY
from fakes.pagerduty.lifecycle import IncidentStatus

pagerduty = pytest.importorskip("pagerduty")


def client_for(base_url, cert, routing_key=DEFAULT_ROUTING_KEY):
    # An SSLContext, not verify=<path>: httpx2 deprecates the string form (see below).
    return pagerduty.EventsApiV2Client(routing_key, base_url=base_url,
                                       verify=ssl.create_default_context(cafile=str(cert)))


def test_pagerduty_client_refuses_http_base_urls():
    """The reason the fake is served over TLS: UrlError for an http base URL."""
    with pytest.raises(pagerduty.UrlError, match="https"):
        pagerduty.EventsApiV2Client(DEFAULT_ROUTING_KEY, base_url="http://127.0.0.1:1")


def test_pagerduty_client_trigger_acknowledge_resolve(served_tls, backend, clock):
    """trigger → the generated dedup_key; acknowledge and resolve move the incident."""
    base_url, cert = served_tls
    with client_for(base_url, cert) as client:
        dedup_key = client.trigger("Contacts error rate 12% > 5%", "sentry:contacts-web",
                                   severity="critical",
                                   custom_details={"phase": "50%", "error_rate": 0.12})
        clock.set(120.0)
        assert client.acknowledge(dedup_key) == dedup_key
        clock.set(600.0)
        assert client.resolve(dedup_key) == dedup_key
    incident = backend.incident(dedup_key)
    assert len(dedup_key) == 32 and incident.status is IncidentStatus.RESOLVED
    assert [(t.at, t.status.value) for t in incident.transitions] == [
        (0.0, "triggered"), (120.0, "acknowledged"), (600.0, "resolved")]
    assert incident.details["custom_details"] == {"phase": "50%", "error_rate": 0.12}
    assert [n.target for n in backend.notifications(dedup_key)] == ["incident-lead"]


def test_pagerduty_client_keeps_a_given_dedup_key(served_tls, backend):
    base_url, cert = served_tls
    with client_for(base_url, cert) as client:
        assert client.trigger("x", "y", dedup_key="rollback-42") == "rollback-42"
    assert backend.incident("rollback-42").status is IncidentStatus.TRIGGERED


def test_pagerduty_client_change_event(served_tls, backend):
    """send_change_event reaches /v2/change/enqueue. (``submit()`` without a timestamp
    crashes inside pagerduty 7.2.0 itself, ``datetime.timezone`` on the class, so the
    timestamp is passed.)"""
    base_url, cert = served_tls
    with client_for(base_url, cert) as client:
        client.submit("Rolled back to dpl_v1", "vercel", timestamp="2026-01-25T14:10:00Z")
    [change] = backend.change_events()
    assert (change.summary, change.source) == ("Rolled back to dpl_v1", "vercel")


def test_pagerduty_client_raises_http_error_on_invalid_event(served_tls, backend):
    """A bad severity comes back 400; the client raises HttpError with the fake's body."""
    base_url, cert = served_tls
    with client_for(base_url, cert) as client, pytest.raises(pagerduty.HttpError) as info:
        client.trigger("x", "y", severity="high")
    assert info.value.response.status_code == 400
    assert info.value.response.json()["status"] == "invalid event"
    assert backend.incidents() == []


def test_pagerduty_client_unknown_routing_key(served_tls):
    base_url, cert = served_tls
    with client_for(base_url, cert, routing_key="0" * 32) as client, \
            pytest.raises(pagerduty.HttpError) as info:
        client.trigger("x", "y")
    assert info.value.response.json()["errors"] == ["Invalid routing key"]


# httpx2 (the client's HTTP stack) deprecates verify=<str>; the reference documents that
# form, so it is exercised once with exactly that warning silenced, nothing broader.
@pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")
def test_pagerduty_client_with_verify_cert_path(served_tls, backend):
    """EventsApiV2Client(key, base_url=..., verify="cert.pem") works, as documented."""
    base_url, cert = served_tls
    with pagerduty.EventsApiV2Client(DEFAULT_ROUTING_KEY, base_url=base_url,
                                     verify=str(cert)) as client:
        dedup_key = client.trigger("via cert path", "drill")
    assert backend.incident(dedup_key).summary == "via cert path"
