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

- per tick, the expected error events: page views per second (the daily cycle) × the
  share that errs at the nominal exposure (the baseline mix before the fault, the fault's
  after); each tick's count a Poisson draw;
- each event stamped at its tick's middle and visible ``ingest_latency`` after the tick
  ends (the browser SDK and error events are sent at once);
- evaluations every ``evaluation_period`` at a phase uniform over the period (the drill
  draws it from the seed);
- the window the Sentry fake evaluates (``window_ticks``; ``tests/sim/test_bounds.py``
  holds it to ``fakes.sentry.measures``).

The trials use their own generator with a constant seed, so every process gets the same
bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.scenario.model import Scenario

TRIALS = 4000
SEED = 20261202  # the trials' own stream, fixed: one bound per scenario in every process
LEAD_TICKS = 6  # ticks before the first window's start, for its first minute bucket


def first_passage(scenario: Scenario, onset: float, faulty_share: float, base_share: float,
                  pageviews_per_s: Callable[[Scenario, float], float], q: float) -> float:
    """The ``q`` quantile of the time from ``onset`` to the alert, in seconds (``inf``
    when more than ``1 − q`` of the trials see no alert before the horizon).

    ``faulty_share`` / ``base_share``: the share of page views that err after / before
    the onset."""
    m, rule, tick = scenario.monitoring, scenario.monitoring.alert, scenario.tick
    lead = math.ceil(rule.time_window / tick) + LEAD_TICKS
    starts = onset + tick * (np.arange(lead + math.ceil((scenario.horizon - onset) / tick))
                             - lead)
    rates = np.array([pageviews_per_s(scenario, t + tick / 2) for t in starts])
    mean = rates * tick * np.where(starts < onset, base_share, faulty_share)
    rng = np.random.default_rng(SEED)
    prefix = np.zeros((TRIALS, starts.size + 1), dtype=np.int64)
    np.cumsum(rng.poisson(mean, size=(TRIALS, starts.size)), axis=1, out=prefix[:, 1:])
    stamp, visible = starts + tick / 2, starts + tick + m.ingest_latency
    at = onset + rng.uniform(0, m.evaluation_period, size=TRIALS)
    rows, run = np.arange(TRIALS), np.zeros(TRIALS, dtype=np.int64)
    fired = np.full(TRIALS, math.inf)
    while at.min() <= scenario.horizon and np.isinf(fired).any():
        lo, hi = window_ticks(at, stamp, visible, rule.time_window)
        run = np.where(prefix[rows, hi] - prefix[rows, lo] > rule.threshold, run + 1, 0)
        fire = (run >= rule.threshold_period) & np.isinf(fired) & (at <= scenario.horizon)
        fired[fire] = at[fire] - onset
        at = at + m.evaluation_period
    return float(np.quantile(fired, q))


def window_ticks(at: np.ndarray, stamp: np.ndarray, visible: np.ndarray, window_s: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per evaluation time ``at``, the ticks ``[lo, hi)`` whose events the rule's window
    counts: stamped within the window's whole minutes ``(floor((at − window) / 60), floor(at
    / 60)]`` (the fake's per-minute buckets) and arrived by ``at``; both rise with the
    tick, so the ticks form a range."""
    first = np.floor((at - window_s) / 60) + 1
    last = np.floor(at / 60)
    minute = np.floor(stamp / 60)
    lo = np.searchsorted(minute, first, side="left")
    hi = np.minimum(np.searchsorted(minute, last, side="right"),
                    np.searchsorted(visible, at, side="right"))
    return lo, np.maximum(lo, hi)
