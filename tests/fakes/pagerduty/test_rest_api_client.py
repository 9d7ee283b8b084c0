"""The fake's REST API v2 read side (``fakes.pagerduty.rest_api``) through the vendor's
own client, ``pagerduty.RestApiV2Client``: classic pagination as the client follows it,
and refusals in the REST API's error shape."""

from __future__ import annotations

import ssl

import pagerduty
import pytest

from fakes.common.history import Lognormal
from fakes.pagerduty.history import seed_history
from fakes.pagerduty.rest_api import REST_API_KEY


def rest_client(base_url, cert, key=REST_API_KEY):
    return pagerduty.RestApiV2Client(key, base_url=base_url,
                                     verify=ssl.create_default_context(cafile=str(cert)))


def test_rest_client_iter_all_pages_through_every_seeded_incident(served_tls, backend):
    """250 incidents over limit=100 pages: the client's iter_all sees each once, in order."""
    seeded = seed_history(backend, seed=3, count=250, ack_delay=Lognormal(120.0, 0.5))
    base_url, cert = served_tls
    with rest_client(base_url, cert) as client:
        got = list(client.iter_all("incidents"))
    assert [i["id"] for i in got] == [i.id for i in seeded]


def test_rest_client_reads_each_incidents_trigger_and_acknowledgement(served_tls, backend):
    """Every seeded incident has one trigger and one acknowledge log entry."""
    seed_history(backend, seed=4, count=120, ack_delay=Lognormal(120.0, 0.5))
    base_url, cert = served_tls
    with rest_client(base_url, cert) as client:
        entries = list(client.iter_all("log_entries"))
    kinds = [e["type"] for e in entries]
    assert kinds.count("trigger_log_entry") == kinds.count("acknowledge_log_entry") == 120


def test_rest_api_refuses_a_wrong_key_with_401_in_the_rest_error_shape(served_tls):
    base_url, cert = served_tls
    with rest_client(base_url, cert, key="not-the-key") as client, \
            pytest.raises(pagerduty.HttpError) as info:
        list(client.iter_all("incidents"))
    assert info.value.response.status_code == 401
    assert info.value.response.json()["error"]["code"] == 2006


def test_rest_api_refuses_a_bad_since_with_400_invalid_input(http):
    r = http("GET", "/incidents?since=yesterday",
             headers={"Authorization": f"Token token={REST_API_KEY}"})
    assert r.status_code == 400
    assert r.json()["error"] == {"message": "Invalid Input Provided", "code": 2001,
                                 "errors": ["since is not an ISO-8601 date"]}


def test_a_date_only_or_zoneless_since_is_utc_not_a_500(http, backend):
    """PagerDuty takes ``since=2025-01-01`` (a date) and zone-less times as UTC: the
    fake answers 200, never a 500 from comparing naive with aware times."""
    seed_history(backend, seed=3, count=5, ack_delay=Lognormal(120.0, 0.3))
    auth = {"Authorization": f"Token token={REST_API_KEY}"}
    for since in ("2000-01-01", "2000-01-01T00:00:00"):
        r = http("GET", f"/incidents?since={since}&until=2100-01-01", headers=auth)
        assert r.status_code == 200, r.text
        assert len(r.json()["incidents"]) >= 5


def test_an_escalated_history_incident_logs_its_escalation_before_the_ack(http, backend):
    """An ack draw past the escalation timeout escalates first, as the policy does."""
    seed_history(backend, seed=5, count=50, ack_delay=Lognormal(1500.0, 0.5),
                 escalation_timeout=1800.0)
    body = http("GET", "/log_entries?limit=100",
                headers={"Authorization": f"Token token={REST_API_KEY}"}).json()
    kinds = [e["type"] for e in body["log_entries"]]
    assert "escalate_log_entry" in kinds
    assert body["more"] is True and body["limit"] == 100


def test_drill_calibrate_reads_the_fake_over_tls_trusting_its_certificate(
        served_tls, backend, tmp_path):
    """As under ``drill serve``: https with the fake's own certificate
    (``--pagerduty-ca-cert``); the seeded ack delay comes back within its interval."""
    from click.testing import CliRunner

    from sim.cli import cli

    seed_history(backend, seed=8, count=200, ack_delay=Lognormal(120.0, 0.5), days=30,
                 end=0.0)
    base_url, cert = served_tls
    out = tmp_path / "pd.yaml"
    result = CliRunner().invoke(cli, ["calibrate", "--days", "3650", "--out", str(out)], env={
        "PAGERDUTY_API_URL": base_url, "PAGERDUTY_API_TOKEN": REST_API_KEY,
        "PAGERDUTY_CA_CERT": str(cert), "VERCEL_TOKEN": "", "NETLIFY_AUTH_TOKEN": ""})
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "incident.ack_delay: {dist: lognormal" in text and "n=200" in text


def test_rest_api_refuses_a_non_integer_limit_in_the_rest_error_shape(http):
    r = http("GET", "/log_entries?limit=lots",
             headers={"Authorization": f"Token token={REST_API_KEY}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == 2001


def test_classic_pagination_ends_at_the_10000th_record_with_a_400(http, backend):
    """PagerDuty refuses ``offset + limit`` past 10,000 (python-pagerduty's
    ``ITERATION_LIMIT``, "enforced server-side ... the HTTP 400 error that will result"):
    the page ending on the 10,000th record is served, the next is refused in the REST
    API's shape."""
    seed_history(backend, seed=6, count=3, ack_delay=Lognormal(120.0, 0.5))
    auth = {"Authorization": f"Token token={REST_API_KEY}"}
    assert http("GET", "/incidents?limit=100&offset=9900", headers=auth).status_code == 200
    r = http("GET", "/incidents?limit=100&offset=9901", headers=auth)
    assert r.status_code == 400
    assert r.json()["error"] == {"message": "Invalid Input Provided", "code": 2001,
                                 "errors": ["offset + limit must not exceed 10000"]}


def test_total_is_null_unless_asked_for(http, backend):
    """PagerDuty's classic pagination leaves ``total`` null for speed; ``total=true``
    asks for the count of the whole window (what ``drill calibrate`` reads to halve a
    window past 10,000 records before paging it)."""
    seed_history(backend, seed=7, count=30, ack_delay=Lognormal(120.0, 0.5))
    auth = {"Authorization": f"Token token={REST_API_KEY}"}
    assert http("GET", "/incidents?limit=10", headers=auth).json()["total"] is None
    assert http("GET", "/incidents?limit=10&total=true", headers=auth).json()["total"] == 30
