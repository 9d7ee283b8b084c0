"""The real browser SDKs in headless Chromium against the fakes: what they send, and when.

The Contacts app is a Vite SPA, so its flags come from posthog-js and its sessions and
errors from @sentry/browser, not from the server SDKs. These tests load ``probe.html``
(the runbook's ``shouldShowNewContacts`` with both SDKs) from a page server on 127.0.0.1
and record what reaches the PostHog and Sentry fakes. Skipped without chromium or npm;
marked slow (each launches a browser).

Rules checked:
- posthog-js persists the flags it received; on the next page load after the flag was
  turned off, the first (synchronous) render still reads the persisted ``true``;
- each page load sends one ``/flags`` request and, once it answers, the flag no longer
  reads true and ``onFeatureFlags`` callbacks run (an app that subscribes re-renders);
  the turned-off flag is absent from the answer, so ``isFeatureEnabled`` is ``undefined``
  and the runbook's code falls back to the env flag;
- while ``/flags`` fails (a PostHog outage: 503), a browser that persisted the flag keeps
  answering it, at the first render and after the failed request; a browser with nothing
  persisted answers ``undefined`` throughout, so the runbook's code takes the env flag;
- an open tab reloads flags on posthog-js's refresh interval (default 5 min while the page
  is visible, doubling up to 1 h without user interaction; here set to 1 s) and runs
  ``onFeatureFlags`` with the new value, without a page load;
- @sentry/browser sends one session per page load at once (``init: true``, status ok),
  each captured error as its own envelope at once together with a session update
  (``errors: 1``: errored); an unhandled error marks the session ``unhandled``, not
  ``crashed`` (browser SDKs override the status: an error does not crash the browser),
  so crash-rate (crashed-session) alerts never see a browser's unhandled errors; the
  unhandled error's event is level ``error`` with ``mechanism.handled: false`` (never
  ``fatal``), so Sentry marks its issue ``isUnhandled``.
"""

from __future__ import annotations

import json
import queue
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from fakes.common.clock import WallClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app as build_posthog
from fakes.sentry.backend import SentryBackend
from fakes.sentry.envelope import parse_envelope
from fakes.sentry.router import build_app as build_sentry
from tests.fakes.browser.harness import (
    PageServer,
    Recorder,
    bundle_sentry,
    launch_chromium,
    stop_chromium,
    wait_until,
)
from tests.npm_tools import ensure_npm_module, ensure_npm_package, why_not
from tests.servers import serve_in_thread

pytestmark = pytest.mark.slow

POSTHOG_JS = "posthog-js@1.449.2"
SENTRY_BROWSER = "@sentry/browser@11.12.0"
ESBUILD = "esbuild@0.28.2"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and Path(p).exists()), None)
FLAG = "contacts_redesign"
REPORT_TIMEOUT_S = 60.0


@dataclass
class Sdks:
    posthog_js: Path
    sentry_js: Path


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> Sdks:
    """The installed SDK bundles (posthog-js's array.full.js, an IIFE of @sentry/browser)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    posthog_js = ensure_npm_module(POSTHOG_JS, "posthog-js")
    sentry_browser = ensure_npm_module(SENTRY_BROWSER, "@sentry/browser")
    esbuild = ensure_npm_package(ESBUILD, "esbuild")
    for found, spec in ((posthog_js, POSTHOG_JS), (sentry_browser, SENTRY_BROWSER),
                        (esbuild, ESBUILD)):
        if found is None:
            pytest.skip(f"cannot install {spec}: {why_not(spec)}")
    assert posthog_js and sentry_browser and esbuild
    out = tmp_path_factory.mktemp("sdk") / "sentry.js"
    return Sdks(posthog_js / "dist" / "array.full.js",
                bundle_sentry(esbuild, sentry_browser, out))


@dataclass
class Flags:
    backend: PostHogBackend
    recorder: Recorder
    url: str


@pytest.fixture
def posthog_fake() -> Iterator[Flags]:
    """The PostHog fake with ``contacts_redesign`` on for everyone, recorded, on loopback."""
    backend = PostHogBackend(WallClock())
    backend.create_feature_flag(FLAG, "Contacts redesign", True,
                                {"groups": [{"properties": [], "rollout_percentage": 100}]})
    recorder = Recorder(build_posthog(backend))
    with serve_in_thread(recorder) as url:
        yield Flags(backend, recorder, url)


def turn_flag_off(fake: Flags) -> None:
    """What the runbook's PostHog rollback does: PATCH the flag inactive (management API)."""
    headers = {"Authorization": f"Bearer {fake.backend.personal_api_key}"}
    base = f"{fake.url}/api/projects/{fake.backend.project_id}/feature_flags/"
    flag = next(f for f in httpx.get(base, headers=headers).json()["results"]
                if f["key"] == FLAG)
    httpx.patch(f"{base}{flag['id']}/", headers=headers,
                json={"active": False}).raise_for_status()


def run_pages(sdks: Sdks, profile: Path, first_url: str, hooks: list[Any]
              ) -> list[dict[str, Any]]:
    """Load ``first_url`` in one Chromium on ``profile``; each report runs the next hook
    (which returns the next URL, or None to stop). Returns the reports in order."""
    steps = iter(hooks)
    page = PageServer({"posthog.js": sdks.posthog_js, "sentry.js": sdks.sentry_js},
                      lambda seen: next(steps)(seen))
    reports = []
    with serve_in_thread(page.app) as origin:
        browser = launch_chromium(str(CHROMIUM), profile, origin + first_url)
        try:
            for _ in hooks:
                try:
                    reports.append(page.wait_report(REPORT_TIMEOUT_S))
                except queue.Empty:
                    pytest.fail(f"no report from the page after {REPORT_TIMEOUT_S} s "
                                f"(chromium log: {profile.parent})")
        finally:
            stop_chromium(browser)
    return reports


def flags_page(fake: Flags, phase: str, **extra: Any) -> str:
    return "/app?" + urlencode({"phase": phase, "posthog": fake.url,
                                "token": fake.backend.project_api_key, "wait_ms": 3000,
                                **extra})


def test_posthog_js_first_render_after_flag_off_reads_the_persisted_true(
        sdks: Sdks, posthog_fake: Flags, tmp_path: Path) -> None:
    """Load 1 receives ``contacts_redesign`` = true and persists it; the flag is set
    inactive; load 2 (same profile) renders ``true`` synchronously, then its one ``/flags``
    answer arrives without the flag, ``isFeatureEnabled`` answers ``undefined`` (so the
    runbook's code falls back to the env flag, off on this page) and ``onFeatureFlags``
    runs."""
    flag_requests: list[int] = []

    def after_first(seen: dict[str, Any]) -> str:
        flag_requests.append(len(posthog_fake.recorder.requests("POST", "/flags")))
        turn_flag_off(posthog_fake)
        return flags_page(posthog_fake, "flags-next")

    def after_second(seen: dict[str, Any]) -> None:
        flag_requests.append(len(posthog_fake.recorder.requests("POST", "/flags")))

    first, second = run_pages(sdks, tmp_path / "profile", flags_page(posthog_fake,
                              "flags-first"), [after_first, after_second])
    record("posthog", {"first": first, "second": second, "flag_requests": flag_requests,
                       "requests": [(s.at, s.method, s.path, s.query, s.status)
                                    for s in posthog_fake.recorder.seen]})
    assert "error" not in first and "error" not in second, (first, second)
    assert first["persistedBeforeInit"] is False and first["firstRender"]["remote"] is None
    assert first["persistedAfter"] is True and first["final"]["remote"] is True
    assert second["persistedBeforeInit"] is True
    assert second["firstRender"] == {**second["firstRender"], "remote": True, "shown": True}
    callbacks = [e for e in second["events"] if e["kind"] == "onFeatureFlags"]
    assert callbacks and callbacks[-1]["remote"] is None  # undefined: the env flag decides
    assert callbacks[-1]["shown"] is False and second["final"]["shown"] is False
    assert flag_requests == [1, 2]  # one /flags request per page load
    flags_sent = posthog_fake.recorder.requests("POST", "/flags")
    assert flags_sent[1].at * 1000 > second["firstRender"]["at"]


class Outage:
    """An ASGI wrapper: while ``down``, PostHog's ``/flags`` answers 503 (an outage)."""

    def __init__(self, app: Any) -> None:
        self.app, self.down = app, False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.down and scope["type"] == "http" and scope["path"].startswith("/flags"):
            body = b'{"detail": "service unavailable"}'
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"application/json"),
                (b"access-control-allow-origin", b"*")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@pytest.fixture
def posthog_outage() -> Iterator[tuple[Flags, Outage]]:
    """The PostHog fake of ``posthog_fake`` behind an outage switch."""
    backend = PostHogBackend(WallClock())
    backend.create_feature_flag(FLAG, "Contacts redesign", True,
                                {"groups": [{"properties": [], "rollout_percentage": 100}]})
    outage = Outage(build_posthog(backend))
    recorder = Recorder(outage)
    with serve_in_thread(recorder) as url:
        yield Flags(backend, recorder, url), outage


def test_posthog_js_keeps_the_persisted_flag_while_flags_fails(
        sdks: Sdks, posthog_outage: tuple[Flags, Outage], tmp_path: Path) -> None:
    """Load 1 persists ``contacts_redesign`` = true; PostHog's ``/flags`` then answers
    503: load 2 (same profile) reads ``true`` at its first render and still after its
    failed request, so it shows the new page; a fresh profile reads ``undefined``
    throughout and the runbook's code falls back to the env flag (off on this page)."""
    fake, outage = posthog_outage

    def outage_starts(seen: dict[str, Any]) -> str:
        outage.down = True
        return flags_page(fake, "flags-next")

    first, during = run_pages(sdks, tmp_path / "profile", flags_page(fake, "flags-first"),
                              [outage_starts, lambda seen: None])
    (fresh,) = run_pages(sdks, tmp_path / "fresh-profile", flags_page(fake, "flags-first"),
                         [lambda seen: None])
    failed = [s.status for s in fake.recorder.requests("POST", "/flags")]
    record("posthog outage", {"first": first, "during": during, "fresh": fresh,
                              "flags_status": failed})
    assert "error" not in first and "error" not in during and "error" not in fresh
    assert first["persistedAfter"] is True
    assert failed[0] == [200] and failed[1:] and all(s == [503] for s in failed[1:])
    assert during["persistedBeforeInit"] is True
    assert during["firstRender"]["remote"] is True and during["firstRender"]["shown"] is True
    assert during["final"] == {"remote": True, "shown": True}
    assert during["persistedAfter"] is True  # nothing replaced the persisted flag
    assert fresh["persistedBeforeInit"] is False
    assert fresh["firstRender"]["remote"] is None and fresh["final"]["remote"] is None
    assert fresh["final"]["shown"] is False  # undefined: the env flag decides


def test_posthog_js_open_tab_picks_up_the_change_on_its_refresh_interval(
        sdks: Sdks, posthog_fake: Flags, tmp_path: Path) -> None:
    """With ``remote_config_refresh_interval_ms`` = 1000 an open tab sends ``/flags``
    again without a page load and calls ``onFeatureFlags`` with the flag no longer true."""
    def flag_goes_off(seen: dict[str, Any]) -> None:
        turn_flag_off(posthog_fake)

    before, after = run_pages(sdks, tmp_path / "profile",
                              flags_page(posthog_fake, "open-tab", refresh_ms=1000,
                                         wait_ms=6000), [flag_goes_off, lambda seen: None])
    record("posthog open tab", {"page": after, "requests": [
        (s.at, s.path, s.query) for s in posthog_fake.recorder.requests("POST", "/flags")]})
    assert before["beforeChange"]["remote"] is True
    changed = [e for e in after["events"] if e["kind"] == "onFeatureFlags"
               and e["remote"] is not True]
    assert changed and changed[0]["at"] - after["changedAt"] < 2500
    assert after["final"]["shown"] is False
    assert len(posthog_fake.recorder.requests("POST", "/flags")) >= 2  # one page load


@pytest.fixture
def sentry_fake() -> Iterator[tuple[SentryBackend, Recorder, str]]:
    backend = SentryBackend(WallClock())
    recorder = Recorder(build_sentry(backend))
    with serve_in_thread(recorder) as url:
        yield backend, recorder, url


def envelope_items(recorder: Recorder) -> list[tuple[float, str, dict[str, Any]]]:
    """(arrival, item type, payload) for every item of every envelope received."""
    found = []
    for seen in recorder.requests("POST", "/api/"):
        for item in parse_envelope(seen.body).items:
            payload = item.json() if item.payload.strip().startswith(b"{") else {}
            found.append((seen.at, item.type, payload))
    return found


def test_sentry_browser_sends_a_session_per_load_and_each_error_at_once(
        sdks: Sdks, sentry_fake: tuple[SentryBackend, Recorder, str], tmp_path: Path
        ) -> None:
    """One page load: a session (``init: true``, ok) sent at init; a captured error sent
    as its own envelope within a second, the session updated to ``errors: 1``; an
    unhandled error sent at once and the session updated to ``unhandled`` (not crashed)."""
    backend, recorder, url = sentry_fake
    page = "/app?" + urlencode({"phase": "sentry", "dsn": backend.dsn(url)})
    (seen,) = run_pages(sdks, tmp_path / "profile", page, [lambda seen: None])
    assert wait_until(lambda: len(envelope_items(recorder)) >= 4, 5.0)
    items = envelope_items(recorder)
    record("sentry", {"page": seen, "items": items, "answers": [
        (s.at, s.status) for s in recorder.requests("POST", "/api/")]})
    assert "error" not in seen, seen
    at = {e["kind"]: e["at"] / 1000 for e in seen["events"]}
    sessions = [(t, p) for t, kind, p in items if kind == "session"]
    events = [(t, p) for t, kind, p in items if kind == "event"]
    assert sessions[0][1]["init"] is True and sessions[0][1]["status"] == "ok"
    assert sessions[0][0] - at["init"] < 1.0
    assert len({p["sid"] for _, p in sessions}) == 1  # one session for the page load
    handled = [t for t, p in events if "captured:" in json.dumps(p.get("exception"))]
    unhandled = [t for t, p in events if "thrown:" in json.dumps(p.get("exception"))]
    assert len(handled) == 1 and handled[0] - at["captureException"] < 1.0
    assert len(unhandled) == 1 and unhandled[0] - at["unhandled"] < 1.0
    thrown = next(p for _, p in events if "thrown:" in json.dumps(p.get("exception")))
    mechanism = thrown["exception"]["values"][-1]["mechanism"]
    assert thrown["level"] == "error" and mechanism["handled"] is False  # never "fatal"
    crash = next(i for i in backend.list_issues() if "thrown:" in i["title"])
    assert crash["isUnhandled"] is True and crash["level"] == "error"
    assert [(p["status"], p["errors"]) for _, p in sessions] == [
        ("ok", 0), ("ok", 1), ("unhandled", 1)]


def record(name: str, facts: dict[str, Any]) -> None:
    """Print what was observed (``pytest -s`` shows it) for the recorded facts."""
    print(f"\n--- recorded {name} ---\n{json.dumps(facts, indent=1, default=str)[:20000]}")
