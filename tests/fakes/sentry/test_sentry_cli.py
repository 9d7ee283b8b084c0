"""End to end with sentry-cli itself (``@sentry/cli`` from npm, installed on first use)
against the fake served on 127.0.0.1: the release commands a deploy script types.

sentry-cli reads ``SENTRY_URL``, ``SENTRY_AUTH_TOKEN``, ``SENTRY_ORG`` and
``SENTRY_PROJECT``; its API calls are in getsentry/sentry-cli ``src/api/mod.rs``
(``get_auth_info`` GET ``/api/0/``, ``update_release`` PUT
``/organizations/{org}/releases/{version}/``, ``get_release``, ``list_releases`` on the
project when one is set, ``list_deploys``). Skipped cleanly without node or when npm
cannot install the CLI.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes.common.clock import WallClock
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app
from tests.fakes.live_cli import live_cli, npm_cli

pytestmark = pytest.mark.node
SENTRY_CLI = "@sentry/cli@3"  # 3.8.0 when this was written
TOKEN = "drill-sentry-token"
VERSION = "contacts-web@2.0.0"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def sentry_cli() -> Path:
    return npm_cli(SENTRY_CLI, "sentry-cli")


@pytest.fixture
def backend() -> SentryBackend:
    return SentryBackend(WallClock(), auth_token=TOKEN)


@pytest.fixture
def sentry(sentry_cli: Path, backend: SentryBackend, tmp_path: Path) -> Iterator[Run]:
    def env(base_url: str) -> dict[str, str]:
        return {"HOME": str(tmp_path), "SENTRY_URL": base_url, "SENTRY_AUTH_TOKEN": TOKEN,
                "SENTRY_ORG": backend.org, "SENTRY_PROJECT": backend.project_slug,
                "SENTRY_DISABLE_UPDATE_CHECK": "1", "SENTRY_LOAD_DOTENV": "0"}

    with live_cli(build_app(backend), lambda _: [str(sentry_cli)], env, tmp_path) as cli:

        def run(*args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
            return cli(*args, env={"SENTRY_AUTH_TOKEN": token})

        yield run


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_sentry_cli_info_reads_the_token_scopes_from_the_index(sentry: Run) -> None:
    """`sentry-cli info` GETs /api/0/ and exits 0 with the token's scopes listed."""
    out = ok(sentry("info"))
    assert "Default Organization: logos-vision" in out
    assert "org:ci" in out


def test_sentry_cli_info_fails_on_a_wrong_token(sentry: Run) -> None:
    """A token the fake does not know is refused (401), and sentry-cli exits non-zero."""
    assert sentry("info", token="not-the-token").returncode != 0


def test_sentry_cli_releases_new_finalize_info_and_list(sentry: Run,
                                                        backend: SentryBackend) -> None:
    """`releases finalize` PUTs dateReleased on the release; `info` and `list` show it."""
    ok(sentry("releases", "new", VERSION))
    assert backend.get_release(VERSION)["dateReleased"] is None
    assert f"Finalized release {VERSION}" in ok(sentry("releases", "finalize", VERSION))
    assert backend.get_release(VERSION)["dateReleased"] is not None
    assert VERSION in ok(sentry("releases", "info", VERSION))
    assert VERSION in ok(sentry("releases", "list"))


def test_sentry_cli_releases_info_and_finalize_of_an_unknown_release_fail(
        sentry: Run) -> None:
    """An unknown version is a 404: `info` exits 1 and `finalize` reports the failure."""
    assert sentry("releases", "info", "contacts-web@9.9.9").returncode != 0
    assert sentry("releases", "finalize", "contacts-web@9.9.9").returncode != 0


def test_sentry_cli_deploys_new_then_list(sentry: Run) -> None:
    """`deploys list` GETs the release's deploys and prints each environment and name."""
    ok(sentry("releases", "new", VERSION))
    assert "No deploys found" in ok(sentry("deploys", "list", "--release", VERSION))
    ok(sentry("deploys", "new", "--release", VERSION, "-e", "production", "-n", "canary"))
    out = ok(sentry("deploys", "list", "--release", VERSION))
    assert "production" in out and "canary" in out
