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
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes.common.clock import WallClock
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app
from tests.fakes.live_cli import live_cli, npm_cli

pytestmark = pytest.mark.node
VERCEL_CLI = "vercel@64"
TOKEN = "drill_token"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def vercel_cli() -> Path:
    return npm_cli(VERCEL_CLI, "vercel", overrides={"sandbox": "4.5.0"})


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
    env = {"HOME": str(home), "VERCEL_TELEMETRY_DISABLED": "1", "NO_UPDATE_NOTIFIER": "1",
           "CI": "1", "FORCE_COLOR": "0"}

    def argv(base_url: str) -> list[str]:
        return [str(vercel_cli), "--api", base_url, "--token", TOKEN,
                "--global-config", str(home / "config")]

    with live_cli(build_app(backend), argv, lambda _: env, home / "app", timeout=120) as run:
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


def test_vercel_cli_ls_meta_filter_lists_only_the_matching_deployment(vercel: Run,
                                                                      world) -> None:
    """`vercel ls -m version=2.0.0` sends `meta-version=2.0.0` (packages/cli/src/commands/
    list/index.ts): only v2 is listed, so it cannot be taken for the rollback target."""
    backend, _, v1, v2 = world
    done = vercel("ls", "-m", "version=2.0.0")
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert backend.get_deployment(v2).url in output
    assert backend.get_deployment(v1).url not in output


def test_vercel_cli_ls_meta_filter_with_no_match_lists_nothing(vercel: Run, world) -> None:
    backend, _, v1, v2 = world
    done = vercel("ls", "-m", "version=9.9.9")
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert not any(backend.get_deployment(d).url in output for d in (v1, v2))


def test_vercel_cli_inspect_logs_prints_the_build_log(vercel: Run, world) -> None:
    """`vercel inspect --logs` streams `/v3/now/deployments/{id}/events?format=lines`."""
    backend, _, _, v2 = world
    done = vercel("inspect", backend.get_deployment(v2).url, "--logs")
    assert done.returncode == 0, done.stderr
    assert "READY" in done.stdout + done.stderr


def test_vercel_cli_env_pull_writes_the_development_variables(vercel: Run, world,
                                                              tmp_path) -> None:
    """`vercel env pull` writes `.env.local` from `/v3/env/pull/{project}/development`."""
    backend, project_id, _, _ = world
    backend.create_project_env(project_id, "VITE_FEATURE_CONTACTS_REDESIGN", "true",
                               type="plain", target=["development"])
    backend.create_project_env(project_id, "PROD_ONLY", "x", type="plain",
                               target=["production"])
    done = vercel("env", "pull", "--yes")
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "home" / "app" / ".env.local").read_text()
    assert 'VITE_FEATURE_CONTACTS_REDESIGN="true"' in written
    assert "PROD_ONLY" not in written


@pytest.mark.parametrize(("command", "expected"), [
    (("project", "ls"), "contacts-web"),
    (("teams", "ls"), "drill"),
    (("alias", "ls"), "contacts-web.vercel.app"),
])
def test_vercel_cli_listings_print_the_fake_account(vercel: Run, world, command,
                                                    expected) -> None:
    """`vercel project ls`, `teams ls`, `alias ls` exit 0 and list the fake's account."""
    done = vercel(*command)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout + done.stderr
