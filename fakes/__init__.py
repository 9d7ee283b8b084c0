"""Fake vendor services: Vercel, Netlify, PostHog, Sentry, Pulse, Slack, Statuspage,
PagerDuty, Docker, and the Contacts app users hit.

Each vendor lives in its own package: ``backend.py`` (a pure state machine on an injected
clock; importing it loads no web framework), ``router.py`` (a thin FastAPI layer calling
backend methods of the same name), ``errors.py`` (the vendor's error shape) and
``vendor.py`` (its descriptor: how to stand it up, serve it and seed the runbook's world),
listed in ``fakes.vendors``.
"""
