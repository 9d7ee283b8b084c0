"""A scenario's API fault refuses the person's call as it refuses the modelled responder's.

``failing-rollback-api``: Vercel's rollback endpoint answers 503 during the incident. A
person's rollback request to the served fake gets that 503 in Vercel's error shape; the
refused call is on the responder's timeline, and it is not a decision (nothing changed
what users get). The served fakes' ``/_fake/`` control plane wants the game day's token.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from sim.gameday.host import GamedayHost
from sim.gameday.runner import GamedayOptions, run_gameday
from sim.scenario.loader import load_scenario
from tests.sim.gameday.test_gameday import _wait_for_page

SCENARIO = Path(__file__).parents[3] / "scenarios" / "failing-rollback-api.yaml"
FAST = ("start=2026-01-25T14:40:00Z", "faults.0.at=20m", "faults.1.at=20m", "faults.1.until=4h",
        "horizon=1h")


def test_the_rollback_api_fault_refuses_the_persons_rollback(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def person(host: GamedayHost) -> None:
        def act() -> None:
            env = host.env
            _wait_for_page(env)
            auth = {"Authorization": f"Bearer {env['VERCEL_TOKEN']}"}
            listed = httpx.get(env["VERCEL_API_URL"] + "/v6/deployments", headers=auth, params={
                "projectId": env["VERCEL_PROJECT_ID"], "target": "production"}).json()
            previous = next(d for d in listed["deployments"]
                            if (d.get("meta") or {}).get("version") == "1.9.0")
            r = httpx.post(f"{env['VERCEL_API_URL']}/v9/projects/{env['VERCEL_PROJECT_ID']}"
                           f"/rollback/{previous['uid']}", headers=auth)
            seen["status"], seen["body"] = r.status_code, r.json()
            state = env["VERCEL_API_URL"] + "/_fake/state"
            seen["guard"] = (httpx.get(state).status_code, httpx.get(
                state, headers={"X-Drill-Token": env["DRILL_FAKE_TOKEN"]}).status_code)
            httpx.post(host.urls["view"] + "/api/end",
                       headers={"X-Drill-Token": env["DRILL_FAKE_TOKEN"]})
        threading.Thread(target=act, daemon=True).start()

    doc = run_gameday(load_scenario(SCENARIO, FAST), tmp_path / "out",
                      GamedayOptions(speed=300, status_every_s=0), on_ready=person)
    assert seen["status"] == 503, seen
    assert seen["guard"] == (403, 200)  # the control plane is the facilitator's
    assert "error" in seen["body"]
    g = doc["gameday"]
    refused = [c for c in g["calls"] if "/rollback/" in c["path"]]
    assert [c["status"] for c in refused] == [503]
    assert g["markers_s"]["decision"] is None and g["rollback_call"] is None
