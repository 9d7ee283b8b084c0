"""Fake Sentry as the runbook's world has it: the app's project with the scenario's
metric alert rule, evaluated on the scenario's schedule, its webhook signed with
``WEBHOOK_SECRET`` and sent to the start's ``webhook_url`` (a drill's pager)."""

from __future__ import annotations

from fakes.common.descriptor import Delivery, Job, Start, Timings, Vendor
from fakes.sentry.backend import SentryBackend

WEBHOOK_SECRET = "drill-webhook-secret"


def create(start: Start) -> SentryBackend:
    m = start.scenario.monitoring
    sentry = SentryBackend(start.clock, webhook_secret=WEBHOOK_SECRET,
                           webhook_url=start.webhook_url)
    sentry.evaluation_interval = m.evaluation_interval
    sentry.create_alert_rule(m.alert.payload(m.environment, sentry.project_slug, [
        {"type": "sentry_app", "targetType": "sentry_app", "targetIdentifier": "drill-pager"}]))
    return sentry


def env(s: SentryBackend, url: str) -> dict[str, str]:
    return {"SENTRY_DSN": s.dsn(url), "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": s.auth_token,
            "SENTRY_ORG": s.org, "SENTRY_PROJECT": s.project_slug}


def timings(s: SentryBackend) -> Timings:
    return {"evaluation_interval": (lambda: s.evaluation_interval,
                                    lambda x: setattr(s, "evaluation_interval", x))}


def jobs(s: SentryBackend) -> list[Job]:
    return list(s.periodic_jobs())


def webhooks(s: SentryBackend) -> list[Delivery]:
    return list(s.drain_webhooks())


SENTRY = Vendor("sentry", create, env, api_faults=True, timings=timings, jobs=jobs,
                webhooks=webhooks)
