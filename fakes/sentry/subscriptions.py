"""When Sentry evaluates a metric alert rule, and which time range each evaluation reads.

A metric alert rule runs as a Snuba subscription: Sentry registers the rule's query with
its ``time_window`` and ``resolution`` in seconds (github:getsentry/sentry
``src/sentry/snuba/tasks.py``, ``_create_in_snuba``). From github:getsentry/snuba:

- **Task times.** The scheduler makes one task per subscription at every Unix timestamp
  ``T`` that is a multiple of its resolution (``snuba/subscriptions/scheduler.py``,
  ``ImmediateTaskBuilder.get_task``: ``timestamp % resolution == 0``). The default
  ``JitteredTaskBuilder`` *runs* a subscription of resolution ≤
  ``MAX_RESOLUTION_FOR_JITTER`` (60 s, ``snuba/settings/__init__.py``) ``jitter =
  uuid.int % resolution`` seconds later (the uuid is a ``uuid1()``,
  ``snuba/subscriptions/subscription.py``), but stamps the task ``T`` all the same: "the
  time range of the query does not include the jitter". Longer resolutions run unjittered.
- **Delay.** The scheduler's clock is the dataset's commit log shifted back by the
  storage's ``subscription_delay_seconds`` (``scheduler_consumer.py``,
  ``CommitLogTickConsumer(time_shift=-delay)``), so a task for ``T`` runs once data
  received up to ``T + delay`` are in: 30 s for errors
  (``snuba/datasets/configuration/events/storages/errors.yaml``) and transactions
  (``transactions/storages/transactions.yaml``), 60 s for the release-health metrics
  crash-rate alerts read (``metrics/storages/raw.yaml``).
- **Range.** The query gets ``timestamp >= T - time_window AND timestamp < T``
  (``snuba/subscriptions/data.py``, ``SnQLSubscriptionData.add_conditions``), and the
  result is stamped ``T`` (``snuba/subscriptions/codecs.py``).
- **Metric buckets.** Crash-rate alerts query the metrics dataset at a granularity set by
  the window (sentry ``src/sentry/snuba/entity_subscription.py``,
  ``BaseCrashRateMetricsEntitySubscription.get_granularity``: 10 s up to 1 h, 60 s up to
  4 h, 1 h up to 24 h), whose rows are stamped with the start of their bucket
  (``snuba/snuba_migrations/metrics/templates.py``: ``granularity *
  intDiv(toUnixTimestamp(timestamp), granularity)``), a session's metrics carrying its
  ``started`` time (github:getsentry/relay
  ``relay-server/src/metrics_extraction/sessions/mod.rs``, ``extract_session_metrics``).
  So a bucket counts when its *start* is in ``[T - W, T)``: sessions started in
  ``[ceil_g(T - W), ceil_g(T))``; with 1-hour buckets that drops the window's partial
  first hour and takes the whole current hour.

Sentry's ``SubscriptionProcessor.process_update``
(``src/sentry/incidents/subscription_processor.py``) skips an update whose timestamp is
not after the last one, so each ``T`` is evaluated once, in order.

In the fake the host runs the evaluation job every ``evaluation_interval``; at host time
``now`` it evaluates, in order, every ``T`` not yet evaluated with ``T + delay <= now``
(``due_updates``). The host's phase, drawn from the seed, stands for Snuba's jitter: a
1-minute rule evaluated every 60 s runs ``delay + U[0, 60)`` after ``T``, as a uuid's
jitter spreads it; a longer resolution (never jittered) runs on the first host tick after
``T + delay``, so up to one ``evaluation_interval`` late.
"""

from __future__ import annotations

import math

# snuba/datasets/configuration/*/storages/*.yaml: stream_loader.subscription_delay_seconds
SUBSCRIPTION_DELAY_SECONDS = {"events": 30, "transactions": 30, "metrics": 60}
MAX_RESOLUTION_FOR_JITTER = 60  # snuba/settings/__init__.py


def delay_s(dataset: str) -> int:
    """Seconds after ``T`` before Snuba runs the task stamped ``T`` (jitter aside)."""
    return SUBSCRIPTION_DELAY_SECONDS[dataset]


def granularity_s(dataset: str, time_window_s: int) -> int:
    """Width of the rows the query reads: whole seconds for events and transactions (their
    ``timestamp`` is a DateTime), the crash-rate alert's metric buckets for ``metrics``."""
    if dataset != "metrics":
        return 1
    if time_window_s <= 3600:
        return 10
    if time_window_s <= 4 * 3600:
        return 60
    if time_window_s <= 24 * 3600:
        return 3600
    return 24 * 3600


def data_range(dataset: str, end: int, time_window_s: int) -> tuple[int, int]:
    """``[lo, hi)``, in Unix seconds, of the data timestamps the update stamped ``end``
    counts: rows whose (bucket-start) timestamp is in ``[end - window, end)``."""
    g = granularity_s(dataset, time_window_s)
    return math.ceil((end - time_window_s) / g) * g, math.ceil(end / g) * g


def due_updates(now: float, resolution_s: int, delay: int, after: int | None,
                first: float) -> range:
    """Task times ``T`` (Unix s, multiples of the resolution) Snuba has run by ``now``:
    ``T + delay <= now``, later than ``after`` (the last evaluated), and no earlier than
    ``first`` (the subscription's first, ``delay`` before its creation)."""
    r = resolution_s
    start = math.ceil(first / r) * r if after is None else after + r
    stop = math.floor((now - delay) / r) * r
    return range(int(start), int(stop) + 1, r) if stop >= start else range(0)
