"""The real ``docker`` CLI against the fake Engine served on 127.0.0.1 (uvicorn).

The fake runs in follow mode on a wall clock 100× faster than real time, as under
``drill serve``: ``docker pull`` returns when the image is local, ``docker stop`` when the
container exited. Skipped when no ``docker`` binary is on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes.common.clock import WallClock
from fakes.docker.backend import DockerBackend
from fakes.docker.router import build_app
from tests.servers import serve_in_thread

DOCKER = shutil.which("docker")
pytestmark = pytest.mark.skipif(DOCKER is None, reason="no docker CLI binary on PATH")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def served() -> Iterator[tuple[DockerBackend, str]]:
    backend = DockerBackend(WallClock(speed=100.0))
    backend.seed_service("logos-vision-crm:current")
    with serve_in_thread(build_app(backend, follow=True)) as base_url:
        yield backend, base_url.replace("http://", "tcp://")


@pytest.fixture
def docker(served: tuple[DockerBackend, str], tmp_path: Path) -> Run:
    """Run ``docker ARGS…`` against the fake, with a config dir of its own."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "DOCKER_HOST": served[1], "DOCKER_CONFIG": str(tmp_path / ".docker"),
           "DOCKER_CLI_HINTS": "false"}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert DOCKER is not None
        done = subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True,
                              timeout=60)
        if check:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    return run


def test_docker_cli_version_ps_pull_and_images(docker: Run, served):
    """The CLI negotiates API 1.43, lists the running service, pulls ``previous`` (only the
    two layers the host lacks), lists both images, and reports a missing tag as Docker does."""
    backend, _ = served
    version = docker("version").stdout
    assert "Server: Docker Engine" in version and "24.0.7" in version
    client, server = version.split("Server:")
    assert "1.43 (downgraded from" in client or "API version:       1.43" in client
    assert "API version:      1.43 (minimum version 1.12)" in server

    ps = docker("ps", "-a").stdout.splitlines()
    assert ps[0].split()[:2] == ["CONTAINER", "ID"]
    [row] = ps[1:]
    assert row.startswith(next(iter(backend.containers))[:12])
    for part in ("logos-vision-crm:current", "(healthy)", "0.0.0.0:3000->3000/tcp",
                 "logos-vision-web-1"):
        assert part in row

    pull = docker("pull", "logos-vision-crm:previous").stdout
    assert pull.count("Already exists") == 3 and pull.count("Pull complete") == 2
    assert "Status: Downloaded newer image for logos-vision-crm:previous" in pull
    assert pull.rstrip().endswith("docker.io/library/logos-vision-crm:previous")
    assert backend.inspect_image("logos-vision-crm:previous")  # local when pull returned

    images = [line.split() for line in docker("images").stdout.splitlines()[1:]]
    assert sorted((r[0], r[1], r[-1]) for r in images) == [
        ("logos-vision-crm", "current", "173MB"), ("logos-vision-crm", "previous", "168MB")]

    missing = docker("pull", "logos-vision-crm:nope", check=False)
    assert missing.returncode == 1
    assert "manifest for logos-vision-crm:nope not found: manifest unknown" in missing.stderr


def test_docker_cli_rolls_back_by_hand(docker: Run, served):
    """stop, rm, pull, create with the compose labels, start: the fake then serves 1.9.0;
    in between (after stop) it serves nothing."""
    backend, _ = served
    assert docker("stop", "logos-vision-web-1").stdout.strip() == "logos-vision-web-1"
    assert backend.serving() is None
    docker("rm", "logos-vision-web-1")
    docker("pull", "-q", "logos-vision-crm:previous")
    created = docker("create", "--name", "logos-vision-web-1", "-p", "3000:3000",
                     "--label", "com.docker.compose.project=logos-vision",
                     "--label", "com.docker.compose.service=web",
                     "logos-vision-crm:previous").stdout.strip()
    docker("start", "logos-vision-web-1")
    deadline = time.monotonic() + 10.0
    while docker("inspect", "-f", "{{.State.Health.Status}}", created).stdout.strip() \
            != "healthy":
        assert time.monotonic() < deadline, "never became healthy"
        time.sleep(0.05)
    assert "logos-vision-crm:previous" in docker("ps").stdout
    assert backend.serving() == {"image": "logos-vision-crm:previous", "version": "1.9.0",
                                 "hasRedesign": False}
