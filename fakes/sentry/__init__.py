"""The fake Sentry: envelope ingestion, release health, issues, metric alerts, webhooks.

``backend.SentryBackend`` is the pure state machine (the simulation calls its
``record_*`` methods directly); ``router.build_app`` puts Sentry's HTTP API in front of it.
Module map: ``envelope`` (wire format), ``sessions`` (release health), ``issues``,
``releases``, ``search`` (query syntax), ``alerts`` (rules and trigger logic),
``measures`` (a rule's aggregate over its window), ``incidents`` (evaluations,
incidents, webhooks), ``errors``.
"""
