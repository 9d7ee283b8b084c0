"""A call's source: the script's own ``X-Drill-Source``, else the client its User-Agent names;
only accepted non-reads count as changes (a refused rollback changed nothing)."""

from __future__ import annotations

from sim.gameday.recorder import Call, source_of


def test_a_calls_source_is_the_header_a_script_sets_or_the_tool_its_user_agent_names() -> None:
    assert source_of({"x-drill-source": "alice", "user-agent": "curl/8.5"}) == "alice"
    assert source_of({"user-agent": "vercel 64.0.2 node-v20.20.2 linux (x64)"}) == "vercel CLI"
    assert source_of({"user-agent": "curl/8.5.0"}) == "curl"
    assert source_of({"user-agent": "posthog-python/7.9"}) == "posthog-python"
    assert source_of({"user-agent": "Wget/1.21"}) == "wget"
    assert source_of({}) == "unknown"


def test_only_accepted_writes_are_changes() -> None:
    def call(method: str, status: int) -> Call:
        return Call(1.0, "vercel", method, "/v9/projects/p/rollback/d", status, "x", "")

    assert call("POST", 201).changes
    assert not call("POST", 503).changes
    assert not call("GET", 200).changes


def test_only_a_control_plane_change_to_what_users_get_can_be_the_decision() -> None:
    """What SDKs send (PostHog capture, /flags, /decide), Sentry's ingestion and the
    facilitator's /_fake/ calls change no served page: none is a person's decision; a
    flag PATCH, a Vercel or Netlify change, a Docker container change or a push is."""
    from sim.gameday.drill import steers_users

    def call(service: str, method: str, path: str, status: int = 200) -> Call:
        return Call(1.0, service, method, path, status, "x", "")

    assert steers_users(call("posthog", "PATCH", "/api/projects/1/feature_flags/7/"))
    assert steers_users(call("posthog", "PATCH", "/api/environments/1/feature_flags/7/"))
    for path in ("/flags/", "/decide/", "/i/v0/e/", "/batch/", "/capture/"):
        assert not steers_users(call("posthog", "POST", path)), path
    assert not steers_users(call("sentry", "POST", "/api/1/envelope/"))
    assert not steers_users(call("vercel", "POST", "/_fake/faults"))
    assert steers_users(call("vercel", "POST", "/v9/projects/p/rollback/d", 201))
    assert not steers_users(call("vercel", "POST", "/v9/projects/p/rollback/d", 503))
    assert steers_users(call("netlify", "POST", "/api/v1/sites/s/rollback"))
    assert steers_users(call("docker", "POST", "/v1.47/containers/web/stop", 204))
    assert steers_users(call("git", "PUSH", "refs/heads/main abc"))


def test_a_secret_in_a_calls_path_is_not_recorded() -> None:
    """The Slack webhook's path ends in its secret; the timeline (journal, summary.json,
    the view) shows it scrubbed, as /_fake/state does."""
    import asyncio
    import threading

    from fakes.common.clock import ManualClock
    from sim.gameday.recorder import CallRecorder

    async def app(scope: dict, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    calls: list[Call] = []
    recorder = CallRecorder(app, "slack", ManualClock(), threading.Lock(), calls,
                            lambda c: None, secrets={"s3cr3tWebhookPart"})

    async def send(message: dict) -> None:
        pass

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(recorder({"type": "http", "method": "POST", "headers": [],
                          "path": "/services/T1/B2/s3cr3tWebhookPart"}, receive, send))
    assert [c.path for c in calls] == ["/services/T1/B2/<redacted>"]
