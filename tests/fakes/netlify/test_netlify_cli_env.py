"""netlify-cli's ``env:set`` and ``env:get`` against the fake, as the runbook's Option A
types them (``netlify env:set VITE_FEATURE_CONTACTS_REDESIGN false``).

What the CLI sends is in netlify/cli ``src/commands/env/env-set.ts``: an existing
variable without ``--context`` is replaced whole (``updateEnvVar``, scopes
``ALL_ENVELOPE_SCOPES`` = builds, functions, runtime, ``post_processing``); with
``--context`` one value is set (``setEnvVarValue``). ``env:get --context`` reads the
first value whose context is ``all`` or the one asked (``getValueForContext`` in
``src/utils/env/index.ts``). The CLI's extension-API lookup reaches the fake too
(``fakes.netlify.extension_api``). Skipped cleanly without node or netlify-cli.
"""

from __future__ import annotations

import pytest

from tests.fakes.netlify.conftest import FLAG, Run, World

pytestmark = pytest.mark.node


def values(backend, world: World) -> dict[str, str]:
    var = backend.get_env_var("drill", FLAG, site_id=world.site.id)
    return {v.context: v.value for v in var.values}


def test_env_set_without_context_replaces_the_value_with_the_cli_default_scopes(
        netlify: Run, backend, world: World) -> None:
    """Option A from the CLI: the default scopes (with ``post_processing``) are accepted,
    the variable is ``false`` for ``all``, and the CLI says so and exits 0."""
    done = netlify("env:set", FLAG, "false")  # the runbook's command, verbatim
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Set environment variable {FLAG}=false" in done.stdout
    assert values(backend, world) == {"all": "false"}
    var = backend.get_env_var("drill", FLAG, site_id=world.site.id)
    assert "post-processing" in var.scopes and "builds" in var.scopes


def test_env_set_with_the_user_spelling_of_a_scope_is_accepted(netlify: Run, backend,
                                                                world: World) -> None:
    """``--scope post-processing`` (the CLI's choice spelling) sets a new variable in that
    scope only."""
    done = netlify("env:set", "NEW_VAR", "x", "--scope", "post-processing")
    assert done.returncode == 0, done.stdout + done.stderr
    var = backend.get_env_var("drill", "NEW_VAR", site_id=world.site.id)
    assert var.scopes == ["post-processing"]


def test_env_set_for_production_then_get_for_production_prints_the_new_value(
        netlify: Run, backend, world: World) -> None:
    """``env:set … --context production`` beside an ``all`` value: ``env:get --context
    production`` prints the new value, the other contexts keep the old one."""
    done = netlify("env:set", FLAG, "false", "--context", "production", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    got = netlify("env:get", FLAG, "--context", "production")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "false"
    preview = netlify("env:get", FLAG, "--context", "deploy-preview")
    assert preview.stdout.strip() == "true"
    assert "all" not in values(backend, world)


def test_env_get_reads_the_seeded_value(netlify: Run) -> None:
    """``env:get`` with no context (``dev``) reads the ``all`` value."""
    got = netlify("env:get", FLAG)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "true"
