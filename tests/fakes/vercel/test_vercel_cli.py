"""End to end with the Vercel CLI itself (installed with npm on first use) against the
fake served on 127.0.0.1: `vercel ls` and `vercel rollback` make the calls a real
rollback makes, and the fake's production alias moves.

The CLI has no env var for the API URL: ``--api`` points it at the fake. It polls
``lastAliasRequest`` every 250 ms and rejects a ``requestedAt`` older than 3 minutes, so
the fake runs on the wall clock here. Skipped cleanly without node or when npm cannot
install the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes.common.clock import WallClock
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app
from tests.npm_tools import ensure_npm_package, why_not
from tests.servers import serve_in_thread

pytestmark = pytest.mark.node
VERCEL_CLI = "vercel@64"
TOKEN = "drill_token"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def vercel_cli() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    executable = ensure_npm_package(VERCEL_CLI, "vercel", overrides={"sandbox": "4.5.0"})
    if executable is None:
        pytest.skip(f"vercel CLI unavailable: {why_not(VERCEL_CLI)}")
    return executable


@pytest.fixture
def world() -> tuple[VercelBackend, str, str, str]:
    backend = VercelBackend(WallClock(), token=TOKEN, alias_propagation=0.5)
    project = backend.create_project("contacts-web")
    v1 = backend.create_deployment(project.id, ready_at=-3600.0, meta={"version": "1.9.0"})
    v2 = backend.create_deployment(project.id, ready_at=-600.0, meta={"version": "2.0.0"})
    return backend, project.id, v1.id, v2.id


@pytest.fixture
def vercel(vercel_cli: Path, world: tuple[VercelBackend, str, str, str],
           tmp_path: Path) -> Iterator[Run]:
    backend, project_id, _, _ = world
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "app" / ".vercel").mkdir(parents=True)
    (home / "app" / ".vercel" / "project.json").write_text(
        json.dumps({"projectId": project_id, "orgId": backend.team.id}))
    with serve_in_thread(build_app(backend)) as base_url:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home),
               "VERCEL_TELEMETRY_DISABLED": "1", "NO_UPDATE_NOTIFIER": "1", "CI": "1",
               "FORCE_COLOR": "0"}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(vercel_cli), "--api", base_url, "--token", TOKEN,
                                   "--global-config", str(home / "config"), *args],
                                  env=env, cwd=home / "app", capture_output=True, text=True,
                                  timeout=120, check=False)

        yield run


def test_vercel_cli_ls_lists_both_production_deployments(vercel: Run, world) -> None:
    """`vercel ls --prod` lists the fake's READY production deployments by URL."""
    backend, _, v1, v2 = world
    done = vercel("ls", "--prod")
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    for deployment_id in (v1, v2):
        assert backend.get_deployment(deployment_id).url in output


def test_vercel_cli_rollback_moves_the_production_alias(vercel: Run, world) -> None:
    """`vercel rollback <v1>` completes (POST rollback, then polling lastAliasRequest until
    it succeeds) and the fake's production alias points at v1."""
    backend, project_id, v1, v2 = world
    assert backend.production_deployment(project_id).id == v2
    done = vercel("rollback", backend.get_deployment(v1).url)
    assert done.returncode == 0, done.stderr
    assert re.search(r"(?i)success", done.stdout + done.stderr)
    assert backend.production_deployment(project_id).id == v1
    assert backend.get_project(project_id).last_alias_request["jobStatus"] == "succeeded"
