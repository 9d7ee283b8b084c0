"""The PostHog and Sentry fakes answer browsers' cross-origin requests as the vendors do.

PostHog (``posthog/utils.py`` ``cors_response``): the caller's origin echoed back, with
credentials. Sentry ingestion (Relay's CORS layer): any origin, POST, the SDK's headers,
rate-limit headers exposed. A request without ``Origin`` (every non-browser client) gets
no CORS headers, so nothing else the fakes answer changes.
"""

from __future__ import annotations

from fakes.common.clock import ManualClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app as build_posthog
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app as build_sentry
from tests.fakes.clients import InProcessClient

ORIGIN = "http://127.0.0.1:5173"


def test_posthog_flags_echo_the_browser_origin_with_credentials() -> None:
    api = InProcessClient(build_posthog(PostHogBackend(ManualClock())), "http://posthog.test")
    answer = api.post("/flags/?v=2", json={"token": "phc_drill", "distinct_id": "u1"},
                      headers={"Origin": ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["access-control-allow-credentials"] == "true"
    plain = api.post("/flags/?v=2", json={"token": "phc_drill", "distinct_id": "u1"})
    assert "access-control-allow-origin" not in plain.headers
    assert plain.json().keys() == answer.json().keys()


def test_sentry_envelope_preflight_allows_any_origin_and_the_sdk_headers() -> None:
    api = InProcessClient(build_sentry(SentryBackend(ManualClock())), "http://sentry.test")
    answer = api.request("OPTIONS", "/api/42/envelope/", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-sentry-auth"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "x-sentry-auth" in allowed and "content-type" in allowed
    assert answer.headers["access-control-max-age"] == "3600"
    refused = api.request("OPTIONS", "/api/42/envelope/", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"})
    assert refused.status_code == 400
