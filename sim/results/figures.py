"""Figures for the HTML reports, drawn with matplotlib's object API (no pyplot, no display).

A run gets a timeline: page views and error rate per variant, exposure, the incident's
phases shaded and its markers (fault, alert, decision, rollback, recovery), once over the
whole horizon and once zoomed on the incident. A sweep gets the CDF of each metric with
its target, and for each varied parameter the metric's quantiles and the probability of
meeting the target against the parameter. ``save`` writes PNG/SVG files with no
timestamps in them, so the same data gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.results.markdown import LABELS

MARKERS = (("fault_started", "fault", "#d62728"), ("alert", "alert", "#ff7f0e"),
           ("report", "reported by a person", "#e377c2"),
           ("decision", "decision", "#9467bd"),
           ("rollback_started", "rollback started", "#8c564b"),
           ("rollback_completed", "rollback done", "#1f77b4"),
           ("recovered", "recovered", "#2ca02c"))
# "detected" is the first critical alert or person's report (sim.results.html adds it)
PHASES = (("fault_started", "detected", "detecting", "#d62728"),
          ("detected", "decision", "deciding", "#ff7f0e"),
          ("decision", "recovered", "rolling back", "#1f77b4"))
EVENT_KINDS = {kind for kind, _, _ in MARKERS}
MIN_VIEWS = 50  # page views of a variant in the window for its error rate to be drawn
OLD, NEW = "#7f7f7f", "#1f77b4"
TIMED = ("time_to_detect_s", "time_to_decision_s", "time_to_rollback_s", "affected_users_pct")
SVG_SALT = "rollout-drill"


def save(fig: Figure, directory: Path, stem: str, formats: Sequence[str] = ("png",)
         ) -> dict[str, bytes]:
    """Write ``stem.<fmt>`` for each format into ``directory``; returns the bytes by format."""
    out = {}
    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT, "svg.fonttype": "none"}):
        for fmt in formats:
            buf = BytesIO()
            meta = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(buf, format=fmt, dpi=100, metadata=meta)
            out[fmt] = buf.getvalue()
            (directory / f"{stem}.{fmt}").write_bytes(out[fmt])
    return out


# ---- one run -----------------------------------------------------------------------------


def timeline(series: dict[str, np.ndarray], events: dict[str, float], tick: float,
             window_s: float, threshold_pct: float | None, zoom: bool = False) -> Figure:
    """Traffic, error rate and exposure per variant over time, with the incident's markers.

    ``events`` maps a journal kind to its first time; ``window_s`` is the alert's window
    (the error rate is drawn as the rule sees it, over that window); ``zoom`` frames the
    incident instead of the whole horizon.
    """
    t = series["t"][: _rows(series)]
    fig = Figure(figsize=(10, 7.2), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    hours = not zoom
    x = t / 3600 if hours else t / 60
    _traffic(axes[0], x, series, tick, max(1, round((60 if zoom else 300) / tick)))
    _errors(axes[1], x, series, max(1, round(window_s / tick)), threshold_pct)
    _exposure(axes[2], x, series)
    scale = 3600 if hours else 60
    for ax in axes:
        _phases(ax, events, scale)
        _markers(ax, events, scale)
    if zoom and "fault_started" in events:
        end = events.get("recovered", events.get("decision", events["fault_started"]))
        axes[0].set_xlim((events["fault_started"] - 900) / 60, (end + 900) / 60)
    axes[2].set_xlabel("virtual time since the drill's start (" + ("h)" if hours else "min)"))
    handles, labels = _legend(axes[0], skip=("old page", "new page"))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 9),
                   fontsize=8)
    fig.suptitle("Incident (zoomed)" if zoom else "Whole drill", fontsize=11)
    return fig


def _rows(series: dict[str, np.ndarray]) -> int:
    t = series["t"]
    # rows past a shortened run's end stay zero; keep row 0 and every row with a time
    nonzero = np.nonzero(t)[0]
    return int(nonzero[-1]) + 1 if nonzero.size else len(t)


def _traffic(ax: Axes, x: np.ndarray, s: dict[str, np.ndarray], tick: float, k: int) -> None:
    n = len(x)
    ticks = np.minimum(np.arange(1, n + 1), k)  # the first rows average what there is
    for variant, color in (("old", OLD), ("new", NEW)):
        views = np.convolve(s[f"pageviews_{variant}"][:n], np.ones(k))[:n] / ticks * 60 / tick
        ax.plot(x, views, color=color, lw=0.9, label=f"{variant} page")
    ax.set_ylabel(f"page views / min ({k * tick / 60:g}-min mean)")
    ax.legend(loc="upper right", fontsize=8)


def _errors(ax: Axes, x: np.ndarray, s: dict[str, np.ndarray], k: int,
            threshold: float | None) -> None:
    n = len(x)
    for variant, color in (("old", OLD), ("new", NEW)):
        views = s[f"pageviews_{variant}"][:n]
        rate = _rolling_rate(s[f"errors_{variant}"][:n], views, k)
        # A page's rate over a window holding a handful of its views (the stale renders
        # after a rollback) is noise that reads as a failed rollback: not drawn.
        rate[np.convolve(views, np.ones(k))[:n] < MIN_VIEWS] = np.nan
        ax.plot(x, rate, color=color, lw=0.9,
                label=f"{variant} page (windows with ≥ {MIN_VIEWS} of its views)")
    both = _rolling_rate(s["errors_old"][:n] + s["errors_new"][:n],
                         s["pageviews_old"][:n] + s["pageviews_new"][:n], k)
    ax.plot(x, both, color="black", lw=0.9, ls="--", label="all page views")
    if threshold is not None:
        ax.axhline(threshold, color="#d62728", lw=0.8, ls=":", label=f"alert > {threshold:g} %")
    ax.set_ylabel("error rate % (alert window)")
    ax.legend(loc="upper right", fontsize=8)


def _rolling_rate(errors: np.ndarray, views: np.ndarray, k: int) -> np.ndarray:
    kernel = np.ones(k)
    e, v = np.convolve(errors, kernel)[: len(errors)], np.convolve(views, kernel)[: len(views)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v > 0, 100 * e / np.maximum(v, 1), np.nan)


def _exposure(ax: Axes, x: np.ndarray, s: dict[str, np.ndarray]) -> None:
    n = len(x)
    ax.step(x, s["exposure_pct"][:n], where="post", color=NEW, lw=1, label="served the new page")
    ax.fill_between(x, s["faulty_pct"][:n], step="post", color="#d62728", alpha=0.35,
                    label="served the faulty page")
    ax.set_ylabel("exposure % of users")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize=8)


def _phases(ax: Axes, events: dict[str, float], scale: float) -> None:
    for start, end, label, color in PHASES:
        if start in events and end in events:
            ax.axvspan(events[start] / scale, events[end] / scale, color=color, alpha=0.08, lw=0,
                       label=label)


def _markers(ax: Axes, events: dict[str, float], scale: float) -> None:
    for kind, label, color in MARKERS:
        if kind in events:
            ax.axvline(events[kind] / scale, color=color, lw=1, ls="--", label=label)
    for kind, t in events.items():
        if kind.startswith("phase"):
            ax.axvline(t / scale, color="black", lw=0.8, ls="-.", label=kind.replace("_", " "))


def _legend(ax: Axes, skip: Sequence[str] = ()) -> tuple[list[Any], list[str]]:
    """The markers' legend entries, once each (every panel draws them)."""
    handles, labels = ax.get_legend_handles_labels()
    seen: dict[str, Any] = {}
    for h, label in zip(handles, labels, strict=True):
        if label not in skip:
            seen.setdefault(label, h)
    return list(seen.values()), list(seen)


# ---- a sweep -----------------------------------------------------------------------------


def cdfs(values: dict[str, dict[str, list[float]]], targets: dict[str, float],
         overall: dict[str, Any]) -> Figure:
    """One panel per timing metric: the empirical CDF per grid point, the target line.

    ``values[metric][label]`` holds each run's value (inf for a run that never got there),
    so a curve that stays below 1 shows the share of runs that never did.
    """
    metrics = [m for m in TIMED if any(values.get(m, {}).values())]
    cols = 2
    rows = max(1, math.ceil(len(metrics) / cols))
    fig = Figure(figsize=(10, 3.6 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        _cdf_panel(ax, metric, values[metric], targets[metric], overall[metric])
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    return fig


def _cdf_panel(ax: Axes, metric: str, curves: dict[str, list[float]], target: float,
               agg: dict[str, Any]) -> None:
    label, unit = LABELS[metric]
    for name, vals in curves.items():
        ordered = np.sort(np.asarray(vals, dtype=float))
        finite = ordered[np.isfinite(ordered)]
        if finite.size:
            y = np.arange(1, finite.size + 1) / ordered.size
            ax.step(finite, y, where="post", lw=1.2, label=name or "all runs")
    ax.axvline(target, color="#d62728", ls="--", lw=1, label=f"target < {target:g}{unit.strip()}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"{label} ({unit.strip() or 'count'})")
    ax.set_ylabel("share of runs ≤ x")
    rate = agg.get("pass_rate")
    if rate is not None:
        ax.set_title(f"{label}: P(meets target) = {rate:.2f} "
                     f"[{agg['ci_low']:.2f}, {agg['ci_high']:.2f}]", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def versus(key: str, entries: list[dict[str, Any]], targets: dict[str, float]) -> Figure:
    """Each timing metric against the varied parameter ``key``: p50/p90/p95 and P(meet)."""
    metrics = [m for m in TIMED if any(e["metrics"][m]["runs"] for e in entries)]
    numeric = all(e["numeric"] is not None for e in entries)
    x = [e["numeric"] for e in entries] if numeric else list(range(len(entries)))
    fig = Figure(figsize=(3.2 * max(1, len(metrics)), 6), layout="constrained")
    axes = fig.subplots(2, max(1, len(metrics)), squeeze=False)
    for j, metric in enumerate(metrics):
        _quantile_panel(axes[0][j], x, entries, metric, targets[metric])
        _pass_panel(axes[1][j], x, entries, metric)
        if not numeric:
            for ax in (axes[0][j], axes[1][j]):
                ax.set_xticks(x, [e["value"] for e in entries], rotation=20, fontsize=8)
        axes[1][j].set_xlabel(key)
    fig.suptitle(f"Metrics against {key}", fontsize=11)
    return fig


def _quantile_panel(ax: Axes, x: list[float], entries: list[dict[str, Any]], metric: str,
                    target: float) -> None:
    label, unit = LABELS[metric]
    for q, style in (("p50", "-o"), ("p90", "--s"), ("p95", ":^")):
        y = [_num(e["metrics"][metric][q]) for e in entries]
        ax.plot(x, y, style, ms=4, lw=1, label=q)
    ax.axhline(target, color="#d62728", ls="--", lw=1, label="target")
    ax.set_title(label, fontsize=10)
    ax.set_ylabel(unit.strip() or "count")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _pass_panel(ax: Axes, x: list[float], entries: list[dict[str, Any]], metric: str) -> None:
    rate = [_num(e["metrics"][metric]["pass_rate"]) for e in entries]
    low = [r - _num(e["metrics"][metric]["ci_low"]) for r, e in zip(rate, entries, strict=True)]
    high = [_num(e["metrics"][metric]["ci_high"]) - r for r, e in zip(rate, entries, strict=True)]
    ax.errorbar(x, rate, yerr=[low, high], fmt="o-", ms=4, lw=1, capsize=3)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("P(meets target), 95 % CI")
    ax.grid(alpha=0.3)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)
