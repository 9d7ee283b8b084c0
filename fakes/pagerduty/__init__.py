"""The fake PagerDuty: the Events API v2, incidents keyed by dedup_key, and escalation.

``backend.PagerDutyBackend`` is the state machine (``events`` checks event bodies,
``lifecycle`` holds the incident transition table, ``escalation`` the policies, ``models``
the records); ``router.build_app`` puts ``POST /v2/enqueue`` and ``/v2/change/enqueue``
in front of it; ``tls.make_self_signed_cert`` lets it be served over https, which the
real ``pagerduty`` client insists on.
"""
