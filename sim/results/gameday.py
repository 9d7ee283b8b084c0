"""The game-day part of ``report.md``: who did what, measured, beside the model and targets.

A game day's summary has a ``gameday`` section (``sim.gameday.runner``); a simulated
run's has none and gets no lines from here.
"""

from __future__ import annotations

from typing import Any


def gameday_lines(doc: dict[str, Any]) -> list[str]:
    """Markdown lines for the ``gameday`` section of ``doc`` (none for a simulated run)."""
    g = doc.get("gameday")
    if not g:
        return []
    lines = ["## Game day: the people's times, measured", "",
             f"Played live at ×{g['speed']:g} from {g['started_at']}"
             + (" with the modelled responder assisting" if g["assist"] else "")
             + f"; virtual seconds (recovery is seen on the {g['tick_s']:g}-s traffic tick).", "",
             "| Time | Measured | Target | Modelled responder |", "|---|---|---|---|"]
    for row in g["scoreboard"]:
        target = "—" if row["target"] is None else f"< {row['target']:g} s"
        lines.append(f"| {row['metric'].removesuffix('_s').replace('_', ' ')} | "
                     f"{_s(row['measured'])} | {target} | {_s(row['modelled'])} |")
    lines += ["", "| Marker | t |", "|---|---|"]
    lines += [f"| {k} | {_s(v)} |" for k, v in g["markers_s"].items()]
    rolled = g.get("rollback_call")
    lines += ["", "Rolled back by: " + (f"{rolled['source']} — `{rolled['method']} "
                                        f"{rolled['service']}{rolled['path']}` at "
                                        f"{rolled['t']:.1f} s" if rolled else "nobody")]
    lines += ["", "### Calls the fakes saw", "", "| t | source | call | status |",
              "|---|---|---|---|"]
    lines += [f"| {c['t']:.1f} s | {c['source']} | `{c['method']} {c['service']}{c['path']}` "
              f"| {c['status']} |" for c in g["calls"]]
    return [*lines, ""]


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"
