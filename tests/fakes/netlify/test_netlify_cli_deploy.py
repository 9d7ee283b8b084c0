"""netlify-cli's ``netlify deploy --prod --dir DIR`` against the fake on 127.0.0.1: the
file-digest flow of netlify/cli ``src/utils/deploy/`` (``fakes.netlify.file_deploys``).

The CLI polls the deploy in real time (``waitForDeploy``), so this module's backend runs
on the wall clock. Skipped cleanly without node or netlify-cli.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.common.clock import WallClock
from fakes.netlify.backend import NetlifyBackend
from tests.fakes.netlify.conftest import TOKEN, Run, World

pytestmark = pytest.mark.node
PAGE = b"<!doctype html><title>Contacts</title>"


@pytest.fixture
def backend() -> NetlifyBackend:
    """On the wall clock: netlify-cli polls in real time."""
    return NetlifyBackend(WallClock(), token=TOKEN, build_time=lambda: 60.0,
                          queue_time=lambda: 10.0, publish_propagation=2.0,
                          file_processing_time=0.5)


def test_netlify_deploy_prod_dir_uploads_the_folder_and_publishes_it(
        netlify: Run, backend: NetlifyBackend, world: World, tmp_path: Path) -> None:
    """`netlify deploy --prod --dir dist --no-build`: createSiteDeploy, the digest PUT,
    one upload per required file, polling until ready; the site then serves it."""
    dist = tmp_path / "home" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.html").write_bytes(PAGE)
    (dist / "app.js").write_text("console.log('contacts')\n")
    done = netlify("deploy", "--prod", "--dir", "dist", "--no-build")
    assert done.returncode == 0, done.stdout + done.stderr
    live = backend.published_deploy(world.site.id)
    assert live.id not in (world.v1.id, world.v2.id)
    assert live.state == "ready" and backend.required_files(live.id) == []
    assert "Deploy is live" in done.stdout + done.stderr


@pytest.mark.parametrize("flags", [(), ("--no-build",)])
def test_netlify_deploy_as_typed_runs_the_same_flow(netlify: Run, backend: NetlifyBackend,
                                                   world: World, tmp_path: Path,
                                                   flags: tuple[str, ...]) -> None:
    """The command as people type it (the CLI first runs the site's build command,
    ``npm run build`` in the fake's build settings, here a script writing the page) and
    with ``--no-build`` both end with the folder live."""
    home = tmp_path / "home"
    (home / "dist").mkdir(parents=True)
    (home / "dist" / "index.html").write_bytes(PAGE)
    build = "node -e \"require('fs').writeFileSync('dist/built.txt', 'ok')\""
    (home / "package.json").write_text(json.dumps(
        {"name": "contacts-web", "private": True, "scripts": {"build": build}}))
    done = netlify("deploy", "--prod", "--dir", "dist", *flags)
    assert done.returncode == 0, done.stdout + done.stderr
    assert backend.published_deploy(world.site.id).id not in (world.v1.id, world.v2.id)
    assert (home / "dist" / "built.txt").exists() == (flags == ())
