"""Fake vendor services: Vercel, PostHog, Sentry and the Contacts app users hit.

Each vendor lives in its own package: ``backend.py`` (pure state machine driven by an
injected clock, no FastAPI import), ``router.py`` (thin FastAPI layer calling backend
methods of the same name) and ``errors.py`` (the vendor's error shape).
"""
