"""Fake PagerDuty (Events API v2, served over TLS like the real one) with the app's
service (on ``DEFAULT_ROUTING_KEY`` unless ``drill serve`` rekeyed it) and its
escalation policy."""

from __future__ import annotations

from fakes.common.descriptor import Start, Vendor
from fakes.pagerduty.backend import PagerDutyBackend


def create(start: Start) -> PagerDutyBackend:
    return PagerDutyBackend(start.clock)


def env(pd: PagerDutyBackend, url: str) -> dict[str, str]:
    return {"PAGERDUTY_EVENTS_URL": url, "PAGERDUTY_ROUTING_KEY": pd.routing_key}


PAGERDUTY = Vendor("pagerduty", create, env, ca_cert_env="PAGERDUTY_CA_CERT")
