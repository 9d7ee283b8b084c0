"""End to end with netlify-cli itself (installed with npm on first use) against the fake
served on 127.0.0.1: the calls a rollback makes are the real client's.

netlify-cli has no rollback command; the runbook's "netlify rollback" is done with
``netlify api rollbackSiteDeploy`` or ``netlify api restoreSiteDeploy`` (vendor-apis.md
§2). Every command first calls ``getSite?feature_flags=cli`` and ``accounts?minimal=true``,
so those are exercised too. Skipped cleanly without node or when npm cannot install.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.node
FLAG = "VITE_FEATURE_CONTACTS_REDESIGN"


def test_netlify_cli_rollback_site_deploy_gets_204_and_republishes_the_previous(
        netlify, clock, backend, world):
    """`netlify api rollbackSiteDeploy` exits 0 (204, no body); v1 is served after the
    propagation delay, not before."""
    done = netlify("api", "rollbackSiteDeploy", data={"site_id": world.site.id})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ""  # the client's rendering of an empty 204
    assert backend.published_deploy(world.site.id).id == world.v2.id
    clock.advance(2.0)
    assert backend.published_deploy(world.site.id).id == world.v1.id
    assert world.site.publish_history[-1].reason == "rollback"


def test_netlify_cli_restore_site_deploy_gets_201_and_publishes_that_deploy(
        netlify, clock, backend, world):
    """`netlify api restoreSiteDeploy` prints the deploy (201) and v1 goes live."""
    done = netlify("api", "restoreSiteDeploy",
                   data={"site_id": world.site.id, "deploy_id": world.v1.id})
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["id"], printed["state"], printed["site_id"]) == (
        world.v1.id, "ready", world.site.id)
    clock.advance(2.0)
    assert backend.published_deploy(world.site.id).id == world.v1.id


def test_netlify_cli_env_value_then_build_serves_the_new_value(netlify, clock, backend, world):
    """Option A through the CLI: setEnvVarValue (201), then createSiteBuild; the flag is
    off only once that build is ready and published."""
    flip = netlify("api", "setEnvVarValue", data={
        "account_id": "drill", "key": FLAG, "site_id": world.site.id,
        "body": {"context": "production", "value": "false"}})
    assert flip.returncode == 0, flip.stderr
    build = netlify("api", "createSiteBuild", data={"site_id": world.site.id})
    assert build.returncode == 0, build.stderr
    assert backend.published_deploy(world.site.id).env == {FLAG: "true"}
    clock.advance(70.0)
    live = backend.published_deploy(world.site.id)
    assert (live.id, live.env) == (json.loads(build.stdout)["deploy_id"], {FLAG: "false"})


def test_netlify_cli_reports_an_unknown_deploy_and_fails(netlify, world):
    """A 404 makes the CLI exit non-zero with the status text; nothing changes."""
    done = netlify("api", "getDeploy", data={"deploy_id": "0" * 24})
    assert done.returncode != 0
    assert "Not Found" in done.stderr
