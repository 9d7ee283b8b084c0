"""The facilitator's live view: the page, its state as JSON, and the controls.

``build_view(drill, modelled)`` is a Starlette app: ``GET /`` the page (``sim.gameday.page``),
``GET /api/state`` the clock, the series, the markers, the scoreboard and the recent calls,
``POST /api/pause|resume|inject|end`` the facilitator's controls, behind the fakes' own
door (``fakes.common.guard``: an allowed Host, same origin, and the game day's token in
``X-Drill-Token``, which the page carries and the env file holds as ``DRILL_FAKE_TOKEN``),
so a web page on another site cannot pause or end the game day. ``status_line`` is the
same state in one terminal line.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from fakes.common.guard import ControlGuard
from sim.gameday.drill import GamedayDrill
from sim.gameday.page import PAGE
from sim.gameday.score import markers, scoreboard

RECENT_CALLS = 30
RECENT_MESSAGES = 8
CONTROLS = ("pause", "resume", "inject", "end")


def snapshot(drill: GamedayDrill, modelled: dict[str, Any] | None) -> dict[str, Any]:
    """What the page shows, read under the drill's lock."""
    with drill.lock:
        return {"scenario": drill.s.name, "now_s": round(drill.env.now, 3),
                "speed": drill.live.speed, "state": drill.state,
                "onset_s": drill.onset, "series": list(drill.series),
                "markers": markers(drill.journal),
                "scoreboard": scoreboard(drill.journal, drill.s.targets.model_dump(),
                                         modelled),
                "calls": [c.as_dict() for c in drill.calls[-RECENT_CALLS:]][::-1],
                "slack": [{"t": round(m.at, 3), "channel": m.channel,
                           "text": (m.text or "")[:300]}
                          for m in drill.world.slack.messages()[-RECENT_MESSAGES:]][::-1],
                "statuspage": _statuspage(drill),
                "incidents": [{"dedup_key": i.dedup_key,
                               "status": getattr(i.status, "value", i.status)}
                              for i in drill.world.pagerduty.incidents()]}


def _statuspage(drill: GamedayDrill) -> list[dict[str, Any]]:
    """The status page's incidents as the public sees them: name, status, last update."""
    sp = drill.world.statuspage
    out = []
    for page in sp.list_pages():
        for incident in sp.list_incidents(page.id):
            last = incident.updates[-1].body if incident.updates else ""
            out.append({"name": incident.name, "last": last[:200],
                        "status": getattr(incident.status, "value", incident.status)})
    return out


def status_line(state: dict[str, Any]) -> str:
    """One line: clock, state, the last tick's error rate and exposure, the markers."""
    last = state["series"][-1] if state["series"] else {}
    seen = " ".join(f"{k}@{v:.0f}s" for k, v in state["markers"].items() if v is not None)
    return (f"T+{state['now_s']:7.0f}s ×{state['speed']:g} {state['state']:<8} "
            f"errors new {100 * last.get('error_rate_new', 0.0):5.1f}% "
            f"old {100 * last.get('error_rate_old', 0.0):4.1f}% "
            f"exposure new {100 * last.get('exposure_new', 0.0):5.1f}% | {seen}")


def build_view(drill: GamedayDrill, modelled: dict[str, Any] | None,
               guard: ControlGuard) -> Starlette:
    """The view's ASGI app over ``drill``; ``guard`` decides who may use the controls."""
    page_html = PAGE.replace("__DRILL_TOKEN__", guard.token)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(page_html)

    # Off the event loop: they take the drill's lock, which a person's call in flight on
    # this loop may hold (sim.gameday.recorder); blocking the loop on it would deadlock.
    async def state(request: Request) -> JSONResponse:
        return JSONResponse(await asyncio.to_thread(snapshot, drill, modelled))

    async def control(request: Request) -> JSONResponse:
        action = request.path_params["action"]
        refused = guard.refusal(request.scope)
        if refused is not None:
            return JSONResponse({"error": refused.replace("control plane", "controls")},
                                status_code=403)
        if action not in CONTROLS:
            return JSONResponse({"error": f"unknown control {action!r}; allowed: "
                                 + ", ".join(CONTROLS)}, status_code=404)
        if action == "inject":
            return JSONResponse({"injected": await asyncio.to_thread(drill.inject_now)})
        await asyncio.to_thread(getattr(drill, action))
        return JSONResponse({"state": drill.state})

    return Starlette(routes=[
        Route("/", page), Route("/api/state", state),
        Route("/api/{action:str}", control, methods=["POST"])])
