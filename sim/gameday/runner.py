"""Running a game day end to end: the modelled run, the live run, the results.

``run_gameday`` (1) runs the same scenario simulated, as the modelled responder's
yardstick; (2) builds the live drill, serves its fakes and the view, writes the env file;
(3) runs the drill on the live clock until the incident is resolved, the horizon, or the
facilitator ends it, printing a status line; (4) writes the same ``summary.json``,
``journal.jsonl``, ``series.csv`` and ``report.md`` as ``drill run``, with a ``gameday``
section: the person's measured times, the calls the fakes saw (each with its source), the
call that rolled back, and the comparison with the modelled responder and the runbook's
targets.

The game day's calendar starts at the scenario's time of day on the first date that is
not in the past (``start`` is moved in both runs, so the daily traffic cycle, which reads
only the hour, is the scenario's): real tools compare the fakes' timestamps with their own
clock — the vercel CLI gives up on a rollback whose ``lastAliasRequest.requestedAt`` is
older than three minutes (vercel/vercel packages/cli/src/commands/rollback/status.ts,
``recentThreshold``) — and a calendar that starts at or after the wall's now and runs
``speed`` ≥ 1 times faster is never behind it.
"""

from __future__ import annotations

import secrets
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fakes.common.guard import ControlGuard
from sim.drills.run import run_drill
from sim.gameday.clock import LiveClock
from sim.gameday.drill import GamedayDrill
from sim.gameday.host import GamedayHost
from sim.gameday.score import markers, scoreboard, times
from sim.gameday.view import build_view, snapshot, status_line
from sim.results.run import RunResult, SectionedResult
from sim.results.writer import write_run
from sim.scenario.model import Scenario
from sim.serve_host import served_names


@dataclass(frozen=True)
class GamedayOptions:
    """How to run one game day."""

    speed: float = 1.0
    host: str = "127.0.0.1"
    env_file: Path | None = None
    assist: bool = False
    status_every_s: float = 1.0  # wall seconds between status lines (0: none)


def live_scenario(scenario: Scenario, now: datetime | None = None) -> Scenario:
    """``scenario`` starting at its own time of day on the first date not before ``now``."""
    now = now or datetime.now(UTC)
    start = scenario.start.astimezone(UTC)
    at = datetime.combine(now.date(), start.timetz())
    if at < now:
        at += timedelta(days=1)
    return scenario.model_copy(update={"start": at})


def run_gameday(scenario: Scenario, out: Path, options: GamedayOptions,
                on_ready: Callable[[GamedayHost], None] | None = None) -> dict[str, Any]:
    """Run the game day; returns the summary written to ``out``."""
    scenario = live_scenario(scenario)
    modelled = run_drill(scenario)
    model_times = times(markers(modelled.journal, rounded=False))
    live = LiveClock(options.speed, scenario.start)
    live.pause()  # it runs once the servers listen and the env file is written
    drill = GamedayDrill(scenario, scenario.seed, live, assist=options.assist)
    token = secrets.token_urlsafe(24)  # the fakes' /_fake/ and the view's controls
    guard = ControlGuard(None, token, hosts=(options.host, *served_names(options.host)))
    host = GamedayHost(drill, build_view(drill, model_times, guard), options.host,
                       token=token)
    try:
        host.start(options.env_file)
        if on_ready is not None:
            on_ready(host)
        result = _run_live(drill, model_times, options)
    finally:
        host.stop()
        drill.flag_eval.close()
        drill.world.close()
    return write_run(_with_gameday(result, drill, host, modelled, options), out)


def _run_live(drill: GamedayDrill, modelled: dict[str, Any],
              options: GamedayOptions) -> RunResult:
    done = threading.Event()
    if options.status_every_s > 0:
        threading.Thread(target=_status, args=(drill, modelled, options, done),
                         daemon=True, name="gameday-status").start()
    previous = _end_on_ctrl_c(drill)
    drill.live.resume()
    try:
        return drill.run()
    finally:
        done.set()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _end_on_ctrl_c(drill: GamedayDrill) -> Any:
    """The first Ctrl-C ends the game day as End does (results are written); a second
    one interrupts. Returns the handler it replaced (None off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def end(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # the lock may be held by this very thread (inside a step): end from another
        threading.Thread(target=drill.end, name="gameday-end", daemon=True).start()

    return signal.signal(signal.SIGINT, end)


def _status(drill: GamedayDrill, modelled: dict[str, Any], options: GamedayOptions,
            done: threading.Event) -> None:
    """Print the status line every ``status_every_s`` until the run is done."""
    while not done.wait(options.status_every_s):
        sys.stderr.write("\r" + status_line(snapshot(drill, modelled))[:160])
        sys.stderr.flush()
    sys.stderr.write("\n")


def _with_gameday(result: RunResult, drill: GamedayDrill, host: GamedayHost,
                  modelled: RunResult, options: GamedayOptions) -> SectionedResult:
    """The live result with its ``gameday`` section."""
    marks = markers(drill.journal)
    ended = drill.ended()
    rolled = drill.rollback_call()
    decision = drill.journal.first("decision")
    ack = drill.journal.first("acknowledged")
    section = {
        "mode": "gameday", "speed": options.speed, "assist": options.assist,
        # ended early by the facilitator before users recovered: the times are unfinished
        "ended": ended, "complete": ended != "facilitator" or marks["recovered"] is not None,
        "started_at": drill.s.start.isoformat(), "tick_s": drill.s.tick,
        "markers_s": marks, "measured": times(markers(drill.journal, rounded=False)),
        "acknowledged_by": None if ack is None else ack.data.get("source"),
        "decision_call": None if decision is None else decision.data.get("path"),
        "rollback_call": None if rolled is None else rolled.as_dict(),
        "calls": [c.as_dict() for c in drill.calls],
        "modelled": {**times(markers(modelled.journal, rounded=False)),
                     "metrics": modelled.metrics.values(), "passed": modelled.metrics.passed},
        "scoreboard": scoreboard(drill.journal, drill.s.targets.model_dump(),
                                 times(markers(modelled.journal, rounded=False))),
        "urls": dict(host.urls)}
    sections = dict(getattr(result, "sections", {}))
    sections["gameday"] = section
    out = SectionedResult(result.scenario, result.seed, result.journal, result.stats,
                          result.metrics, result.facts, result.samples, sections=sections)
    out.flag_module = result.flag_module  # the app's own flag module, when it ran
    return out
