"""Fixtures for the fake Netlify: a manual clock, a backend on it, a seeded site, an
in-process HTTP client (httpx over ASGI) to script API calls with, and netlify-cli
installed with npm for the tests that run the real client."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fakes.common.clock import ManualClock
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.models import Deploy, Site
from fakes.netlify.router import build_app
from tests.fakes.clients import InProcessClient, Script
from tests.fakes.live_cli import live_cli, npm_cli

TOKEN = "drill_token"
QUEUE = 10.0
BUILD = 60.0
PROPAGATION = 2.0
FLAG = "VITE_FEATURE_CONTACTS_REDESIGN"
Run = Callable[..., subprocess.CompletedProcess[str]]
# The extension API netlify-cli asks (fakes.netlify.extension_api), reached at the fake.
SDK_REDIRECT = Path(__file__).with_name("netlifysdk_to_fake.cjs")
NETLIFY_CLI = "netlify-cli@26"  # the major the reference recorded (26.2.0)


@dataclass
class World:
    """A site publishing v2, with v1 (older, ready, published before) to go back to."""

    site: Site
    v1: Deploy
    v2: Deploy


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> NetlifyBackend:
    return NetlifyBackend(clock, token=TOKEN, build_time=lambda: BUILD,
                          queue_time=lambda: QUEUE, publish_propagation=PROPAGATION)


@pytest.fixture
def world(backend: NetlifyBackend) -> World:
    site = backend.create_site("contacts-web")
    backend.create_env_vars("drill", [{"key": FLAG, "values": [
        {"value": "true", "context": "all"}]}], site_id=site.id)
    v1 = backend.create_deploy(site.id, ready_at=-3600.0, commit_ref="aaa111", title="v1",
                               meta={"version": "1.0.0", "hasRedesign": False})
    v2 = backend.create_deploy(site.id, ready_at=-600.0, commit_ref="bbb222", title="v2",
                               meta={"version": "2.0.0", "hasRedesign": True})
    return World(site, v1, v2)


@pytest.fixture
def api(backend: NetlifyBackend) -> Callable[[Script], Any]:
    """Run ``script(client)`` against the fake's app; the client sends the good token."""
    return InProcessClient(build_app(backend), "http://netlify.test",
                           headers={"Authorization": f"Bearer {TOKEN}"}).run


@pytest.fixture(scope="session")
def netlify_cli() -> Path:
    """The ``netlify`` executable, installed with npm on first use; skips without it."""
    return npm_cli(NETLIFY_CLI, "netlify")


@pytest.fixture
def netlify(netlify_cli: Path, backend: NetlifyBackend, world: World,
            tmp_path: Path) -> Iterator[Run]:
    """``netlify("api", method, data)``: the CLI against the fake, isolated from the host
    (throwaway HOME, telemetry off, NETLIFY_API_URL pointing at 127.0.0.1)."""
    home = tmp_path / "home"
    (home / ".config" / "netlify").mkdir(parents=True)
    (home / ".config" / "netlify" / "config.json").write_text('{"telemetryDisabled": true}')
    def env(base_url: str) -> dict[str, str]:
        return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "CI": "1",
                "NO_UPDATE_NOTIFIER": "1", "NETLIFY_API_URL": base_url,  # no trailing slash
                "NETLIFY_AUTH_TOKEN": TOKEN, "NETLIFY_SITE_ID": world.site.id,
                "NODE_OPTIONS": f"--require {SDK_REDIRECT}", "DRILL_NETLIFY_SDK_URL": base_url}

    with live_cli(build_app(backend), lambda _: [str(netlify_cli)], env, home) as cli:

        def run(*args: str, data: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
            return cli(*args, *(["--data", json.dumps(data)] if data is not None else []))

        yield run
