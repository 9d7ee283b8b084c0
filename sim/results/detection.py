"""When an error-count alert first fires on a breach that noise can hide: its first passage.

A count rule (``count()`` of ``event.type:error`` above N over its window) fires at the
first evaluation whose window holds more than N error events, ``threshold_period`` times
in a row. When the fault's steady count is well over N that happens within one window
(``sim.results.bounds.detection``'s closed form). When it is near N, each window's count
is a Poisson draw around it and the alert may stay silent for several evaluations: the
time to detect is a first-passage time, and its tail, not a closed form, says how long a
run may take.

``first_passage`` computes that distribution from the rule and the traffic's rates alone,
not from the drill's engine:

- per tick, the error events of the visits to each page (visits per second from the
  daily cycle, the nominal exposure's share on the new page): each visit has ``1 +
  Poisson(pageviews_per_visit − 1)`` page views and each view errs at its page's rate
  (the baseline before the fault, the fault's after), as the traffic model draws them. A
  tick's count is then compound Poisson, over-dispersed (a visit's views err together),
  and is drawn as the negative binomial of the same mean and variance; its events are
  stamped at the tick's middle (the browser SDK sends at once; the ingest latency is far
  under Snuba's delay);
- Snuba's subscription updates (``fakes.sentry.subscriptions``): one stamped at every
  Unix multiple ``T`` of the rule's resolution, counting the events stamped in
  ``[T − window, T)`` (``data_range``), run the dataset's delay after ``T`` on the next
  tick of the evaluation job, whose phase is uniform over its interval (the drill draws it
  from the seed); an update whose window ended by the onset saw no fault;
- the alert fires at the run of the update that completes ``threshold_period``
  consecutive breaches.

The trials use their own generator with a constant seed, so every process gets the same
bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from fakes.sentry.subscriptions import data_range
from sim.scenario.model import Scenario

TRIALS = 4000
SEED = 20261202  # the trials' own stream, fixed: one bound per scenario in every process
LEAD_TICKS = 6  # ticks before the first window's start (a metric bucket's start)
FIRST_SPAN = 1800.0  # seconds after the onset the trials first cover


def first_passage(scenario: Scenario, onset: float, exposure: float,
                  before: tuple[float, float], after: tuple[float, float],
                  pageviews_per_s: Callable[[Scenario, float], float], q: float) -> float:
    """The ``q`` quantile of the time from ``onset`` to the alert, in seconds (``inf``
    when more than ``1 − q`` of the trials see no alert before the horizon).

    ``before`` / ``after``: the (new page, old page) error rates per page view before and
    after the onset; ``exposure``: the share of visits on the new page. The trials run
    over the first ``FIRST_SPAN`` after the onset, then twice as long, … until the
    quantile is reached or the horizon is."""
    span = FIRST_SPAN
    while True:
        until = min(scenario.horizon, onset + span)
        found = float(np.quantile(_detections(scenario, onset, until, exposure, before,
                                              after, pageviews_per_s), q))
        if math.isfinite(found) or until >= scenario.horizon:
            return found
        span *= 2


def _detections(scenario: Scenario, onset: float, until: float, exposure: float,
                before: tuple[float, float], after: tuple[float, float],
                pageviews_per_s: Callable[[Scenario, float], float]) -> np.ndarray:
    """Each trial's time from ``onset`` to the alert (``inf``: none by ``until``)."""
    m, rule, tick = scenario.monitoring, scenario.monitoring.alert, scenario.tick
    lead = math.ceil(rule.time_window / tick) + LEAD_TICKS
    starts = onset + tick * (np.arange(lead + math.ceil((until - onset) / tick)) - lead)
    k = scenario.traffic.pageviews_per_visit
    visits = np.array([pageviews_per_s(scenario, t + tick / 2) for t in starts]) * tick / k
    mean, var = np.zeros(starts.size), np.zeros(starts.size)
    for share, side in ((exposure, 0), (1 - exposure, 1)):
        mu, v = _per_visit(np.where(starts < onset, before[side], after[side]), k)
        mean += visits * share * mu
        var += visits * share * v
    rng = np.random.default_rng(SEED)
    prefix = np.zeros((TRIALS, starts.size + 1), dtype=np.int64)
    np.cumsum(_counts(rng, mean, var), axis=1, out=prefix[:, 1:])
    ends, lo, hi = update_ticks(scenario, onset, until, starts + tick / 2)
    breach = (prefix[:, hi] - prefix[:, lo]) > rule.threshold  # trials × updates
    run = breach.copy()
    for back in range(1, rule.threshold_period):  # and the updates before it
        run[:, back:] &= breach[:, :-back]
        run[:, :back] = False
    interval = m.evaluation_interval
    phase = rng.uniform(0, interval, size=TRIALS)
    due = ends[run.argmax(axis=1)] + rule.subscription_delay_s
    ran = phase + np.ceil((due - phase) / interval) * interval  # the job's next tick
    return np.where(run.any(axis=1) & (ran <= until), ran - onset, math.inf)


def _per_visit(rate: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and second moment of one visit's errors: ``V = 1 + Poisson(k − 1)`` views,
    each erring at ``rate`` (a compound Poisson count's variance is visits × E[Y²])."""
    ev, ev2 = k, (k - 1) + k * k
    return rate * ev, rate * (1 - rate) * ev + rate * rate * ev2


def _counts(rng: np.random.Generator, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``TRIALS`` draws per tick of a count with this mean and variance (the variance over
    the mean, as a compound count's is): the negative binomial ``NB(n, p)`` with ``n =
    mean² / (var − mean)`` and ``p = mean / var``; a tick with no expected error gives 0."""
    some = mean > 0
    n = np.where(some, mean * mean / np.maximum(var - mean, 1e-12 * mean + 1e-300), 1.0)
    p = np.where(some, mean / np.maximum(var, 1e-300), 1.0)
    return rng.negative_binomial(n, p, size=(TRIALS, mean.size))


def update_ticks(scenario: Scenario, onset: float, until: float, stamp: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The updates stamped after the onset and by ``until``: their stamps ``T`` (virtual
    s), and per update the ticks ``[lo, hi)`` whose events its data range counts (events
    stamped ``stamp``, rising)."""
    rule = scenario.monitoring.alert
    offset = scenario.start.timestamp()
    r = int(rule.resolution_s)
    first = (math.floor(offset + onset) // r + 1) * r  # the first T past the onset
    ends_unix = np.arange(first, offset + until + 1, r)
    ranges = np.array([data_range(rule.dataset, int(e), int(rule.time_window))
                       for e in ends_unix])
    seconds = np.floor(offset + stamp)
    lo = np.searchsorted(seconds, ranges[:, 0], side="left")
    hi = np.searchsorted(seconds, ranges[:, 1], side="left")
    return ends_unix - offset, lo, hi
