"""The live view in headless Chromium: it renders the game day and keeps updating.

While a game day runs at ×200, Chromium loads the view twice, a moment apart (``--dump-dom``
after its page script has polled ``api/state``): the DOM shows the scoreboard and the
markers, its clock moves between the two loads, and the page marker appears once the
person is paged. A screenshot is taken mid-incident (paged, not yet rolled back) for the
facilitator's note (``GAMEDAY_SCREENSHOT``, default a temporary file). Then the script
acknowledges and rolls back, so the game day ends. Skipped without ``chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sim.gameday.host import GamedayHost
from sim.gameday.runner import GamedayOptions, run_gameday
from sim.scenario.loader import load_default
from tests.fakes.browser.harness import CHROMIUM_FLAGS
from tests.sim.gameday.test_gameday import FAST, _disable_flag, _state, _wait_for_page


def _chromium(*args: str, profile: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium is not None
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                           "--window-size=1400,1000", "--virtual-time-budget=1500", *args],
                          capture_output=True, text=True, timeout=60, check=False)
    return done.stdout


def _clock(dom: str) -> str:
    found = re.search(r'id="clock">([^<]*)<', dom)
    return found.group(1) if found else ""


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser")
                    is None, reason="chromium is not on PATH")
def test_live_view_renders_and_updates_in_headless_chromium(tmp_path: Path) -> None:
    """The page renders the clock, the scoreboard and the markers and updates live."""
    seen: dict[str, Any] = {}
    shot = Path(os.environ.get("GAMEDAY_SCREENSHOT", tmp_path / "gameday.png"))

    def person(host: GamedayHost) -> None:
        def act() -> None:
            env, url = host.env, host.urls["view"] + "/"
            seen["early"] = _chromium("--dump-dom", url, profile=tmp_path / "p1")
            _wait_for_page(env)
            time.sleep(0.3)  # a few ticks into the page: errors still flowing
            shot.parent.mkdir(parents=True, exist_ok=True)
            _chromium(f"--screenshot={shot}", url, profile=tmp_path / "p2")
            seen["paged"] = _chromium("--dump-dom", url, profile=tmp_path / "p3")
            key = next(i["dedup_key"] for i in _state(env)["incidents"])
            httpx.post(env["PAGERDUTY_EVENTS_URL"] + "/v2/enqueue", json={
                "routing_key": env["PAGERDUTY_ROUTING_KEY"], "event_action": "acknowledge",
                "dedup_key": key})
            _disable_flag(env)
        threading.Thread(target=act, daemon=True).start()

    doc = run_gameday(load_default(FAST), tmp_path / "out",
                      GamedayOptions(speed=200, status_every_s=0), on_ready=person)
    early, paged = seen["early"], seen["paged"]
    for dom in (early, paged):
        assert "Scoreboard" in dom and "time to detect" in dom
        assert int(re.search(r'data-updates="(\d+)"', dom).group(1)) >= 1  # type: ignore[union-attr]
    assert _clock(early) != _clock(paged) and _clock(paged).startswith("T+")
    assert re.search(r"<td>page</td><td>T\+", paged), "the page marker is shown once paged"
    assert shot.stat().st_size > 10_000
    assert doc["gameday"]["markers_s"]["recovered"] is not None
