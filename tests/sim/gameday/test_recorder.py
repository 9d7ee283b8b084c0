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
