"""Release health: the sessions store and the sessions API's answer over it.

Sessions live in per-(release, environment) per-minute rows ``[healthy, errored, crashed,
abnormal]``; each session is in exactly one column (crashed > abnormal > errored >
healthy, as SDK aggregates count them; a request-mode ``exited`` is ``healthy``).
``sessions_stats`` buckets those rows into the API's intervals and computes its fields.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from fakes.sentry.errors import BadRequest
from fakes.sentry.search import Search

HEALTHY, ERRORED, CRASHED, ABNORMAL = range(4)
STATUSES = ("healthy", "errored", "crashed", "abnormal")  # column order of a row
FIELDS = ("sum(session)", "crash_free_rate(session)", "crash_rate(session)")
GROUP_BYS = ("project", "release", "environment", "session.status")
MAX_POINTS = 10_000

Buckets = dict[tuple[str, str], dict[int, list[int]]]


def field_value(name: str, row: Sequence[int]) -> float | int | None:
    """One API field over a ``[healthy, errored, crashed, abnormal]`` sum."""
    total = sum(row)
    if name == "sum(session)":
        return total
    if total == 0:
        return None
    crash = row[CRASHED] / total
    return 1.0 - crash if name == "crash_free_rate(session)" else crash


def window_totals(minutes: dict[int, list[int]], lo: int, hi: int) -> list[int]:
    """Column sums of the rows of minutes ``lo..hi`` (inclusive)."""
    acc = [0, 0, 0, 0]
    if hi - lo + 1 <= len(minutes):
        rows = (minutes.get(m) for m in range(lo, hi + 1))
    else:
        rows = (row for m, row in minutes.items() if lo <= m <= hi)
    for row in rows:
        if row is not None:
            acc[0] += row[0]
            acc[1] += row[1]
            acc[2] += row[2]
            acc[3] += row[3]
    return acc


def _check(fields: Sequence[str], group_by: Sequence[str], search: Search,
           stats_period_s: float, interval_s: float) -> int:
    if not fields:
        raise BadRequest("Request is missing a \"field\"")
    for name in fields:
        if name not in FIELDS:
            raise BadRequest(f"Invalid field: {name!r}")
    for name in group_by:
        if name not in GROUP_BYS:
            raise BadRequest(f"Invalid groupBy: {name!r}")
    if "session.status" in group_by and any(f != "sum(session)" for f in fields):
        raise BadRequest("Cannot group field by session.status")
    if search.unknown or search.text:
        raise BadRequest(f"Invalid search: {(search.unknown or list(search.text))[0]!r}")
    if interval_s < 60 or interval_s % 60:
        raise BadRequest("The interval has to be a multiple of one minute")
    if stats_period_s <= 0:
        raise BadRequest("statsPeriod must be positive")
    points = math.ceil(stats_period_s / interval_s)
    if points > MAX_POINTS:
        raise BadRequest("Your interval and date range would create too many results. "
                         "Use a larger interval, or a smaller date range.")
    return points


def sessions_stats(buckets: Buckets, now: float, iso: Callable[[float], str], project_id: int,
                   fields: Sequence[str], environments: Sequence[str], search: Search,
                   query: str, stats_period_s: float, interval_s: float,
                   group_by: Sequence[str]) -> dict[str, Any]:
    """Sentry's sessions API answer: one group per distinct group-by value (one group
    ``by: {}`` when not grouping). As in Sentry, ``end`` is ``now`` rounded *up* to the
    interval and ``start = end - statsPeriod``, so ``statsPeriod=1h&interval=1h`` is the
    current clock hour, not the last 60 minutes. Raises BadRequest for a field, groupBy
    or query it does not support."""
    points = _check(fields, group_by, search, stats_period_s, interval_s)
    end = math.ceil(now / interval_s) * interval_s
    start = end - points * interval_s
    keys = [g for g in group_by if g != "session.status"]
    series: dict[tuple[Any, ...], list[list[int]]] = {}
    for (release, env), minutes in buckets.items():
        if (environments and env not in environments) or not search.match_key(release, env):
            continue
        by = {"project": project_id, "release": release, "environment": env}
        acc = series.setdefault(tuple(by[k] for k in keys), [[0] * 4 for _ in range(points)])
        for minute, row in minutes.items():
            t = minute * 60
            if start <= t <= now:
                cell = acc[int((t - start) // interval_s)]
                for col in range(4):
                    cell[col] += row[col]
    if not series and not keys:
        series[()] = [[0] * 4 for _ in range(points)]
    groups = _groups(series, keys, "session.status" in group_by, fields)
    return {"start": iso(start), "end": iso(end), "query": query,
            "intervals": [iso(start + i * interval_s) for i in range(points)],
            "groups": groups}


def _groups(series: dict[tuple[Any, ...], list[list[int]]], keys: list[str], by_status: bool,
            fields: Sequence[str]) -> list[dict[str, Any]]:
    groups = []
    for values, cells in series.items():
        if keys and not any(any(c) for c in cells):
            continue  # a grouped value without data in the period is not listed
        for col, status in enumerate(STATUSES) if by_status else [(None, None)]:
            rows = [[c[col] if i == col else 0 for i in range(4)] for c in cells] \
                if col is not None else cells
            total = [sum(r[i] for r in rows) for i in range(4)]
            by: dict[str, Any] = dict(zip(keys, values, strict=True))
            if status is not None:
                by["session.status"] = status
            groups.append({"by": by,
                           "totals": {f: field_value(f, total) for f in fields},
                           "series": {f: [field_value(f, r) for r in rows] for f in fields}})
    return groups
