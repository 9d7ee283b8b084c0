"""Env vars are baked into a build when it starts (Vite inlines VITE_* at build time)."""

from __future__ import annotations

FLAG = "VITE_FEATURE_CONTACTS_REDESIGN"


def _set_flag(backend, site, value: str, context: str = "all") -> None:
    backend.set_env_var_value("drill", FLAG, value=value, context=context, site_id=site.id)


def test_a_build_bakes_the_env_of_its_build_start_not_of_its_creation(clock, backend, world):
    """Created at 0, build starts at 10: an edit at 5 is in it, an edit at 20 is not."""
    dep = backend.create_deploy(world.site.id)
    assert dep.env is None  # enqueued: nothing baked yet
    clock.set(5.0)
    _set_flag(backend, world.site, "false")
    clock.set(10.0)
    assert backend.get_deploy(dep.id).env == {FLAG: "false"}
    clock.set(20.0)
    _set_flag(backend, world.site, "true")
    clock.set(100.0)
    assert backend.published_deploy(world.site.id).env == {FLAG: "false"}


def test_changing_a_variable_changes_nothing_served(clock, backend, world):
    """Option A's first half: the variable flips, the site still serves the old build."""
    _set_flag(backend, world.site, "false", context="production")
    assert backend.site_env(world.site.id) == {FLAG: "false"}
    clock.set(3600.0)
    assert backend.published_deploy(world.site.id).env == {FLAG: "true"}


def test_a_new_build_serves_the_new_value_only_once_ready_and_published(clock, backend, world):
    """Option A on Netlify in full: flip, trigger a deploy; off only at t+q+d."""
    clock.set(100.0)
    _set_flag(backend, world.site, "false")
    build = backend.create_site_build(world.site.id)
    dep = backend.get_deploy(build.deploy_id)
    assert dep.context == "production" and dep.branch == "main"
    clock.set(169.999)
    assert backend.published_deploy(world.site.id).id == world.v2.id
    clock.set(170.0)
    live = backend.published_deploy(world.site.id)
    assert (live.id, live.env) == (dep.id, {FLAG: "false"})


def test_each_context_bakes_its_own_value_most_specific_first(clock, backend, world):
    """production > all for production; a branch value beats branch-deploy beats all."""
    _set_flag(backend, world.site, "false", context="production")
    backend.set_env_var_value("drill", FLAG, value="beta", context="branch",
                              context_parameter="beta", site_id=world.site.id)
    backend.set_env_var_value("drill", FLAG, value="branches", context="branch-deploy",
                              site_id=world.site.id)
    prod = backend.create_deploy(world.site.id)
    beta = backend.create_deploy(world.site.id, context="branch-deploy", branch="beta")
    other = backend.create_deploy(world.site.id, context="branch-deploy", branch="other")
    preview = backend.create_deploy(world.site.id, context="deploy-preview", publish=False)
    clock.set(10.0)
    assert [backend.get_deploy(d.id).env for d in (prod, beta, other, preview)] == [
        {FLAG: "false"}, {FLAG: "beta"}, {FLAG: "branches"}, {FLAG: "true"}]


def test_shared_account_variables_reach_builds_unless_the_site_overrides_them(clock, backend,
                                                                              world):
    """An account-level variable (no site_id) is baked too; the site's own key wins;
    a variable without the builds scope never reaches a build."""
    backend.create_env_vars("drill", [
        {"key": "VITE_ROLLOUT_PERCENTAGE", "values": [{"value": "50"}]},
        {"key": FLAG, "values": [{"value": "shared"}]},
        {"key": "SENTRY_AUTH_TOKEN", "scopes": ["functions", "runtime"],
         "values": [{"value": "s3cr3t"}], "is_secret": True}])
    dep = backend.create_deploy(world.site.id)
    clock.set(10.0)
    assert backend.get_deploy(dep.id).env == {FLAG: "true", "VITE_ROLLOUT_PERCENTAGE": "50"}
    assert {v.key for v in backend.get_env_vars("drill", site_id=world.site.id)} == {
        FLAG, "VITE_ROLLOUT_PERCENTAGE", "SENTRY_AUTH_TOKEN"}


def test_set_env_var_value_201_changes_the_next_build_not_the_current(api, clock, backend,
                                                                      world):
    """PATCH …/env/{key}?site_id → 201; the running build keeps the old value, the next
    build (POST /sites/{id}/builds) bakes the new one."""
    site = world.site.id
    running = backend.create_deploy(site)
    clock.set(15.0)  # building since 10, with FLAG=true baked

    async def script(c):
        patched = await c.patch(f"/api/v1/accounts/drill/env/{FLAG}",
                                params={"site_id": site},
                                json={"context": "production", "value": "false"})
        clock.set(70.0)
        current = (await c.get(f"/api/v1/sites/{site}")).json()["published_deploy"]
        build = (await c.post(f"/api/v1/sites/{site}/builds")).json()
        clock.set(70.0 + 70.0)
        after = (await c.get(f"/api/v1/sites/{site}")).json()["published_deploy"]
        return patched, current, build, after

    patched, current, build, after = api(script)
    assert patched.status_code == 201
    assert {(v["context"], v["value"]) for v in patched.json()["values"]} == {
        ("production", "false"), ("deploy-preview", "true"), ("branch-deploy", "true"),
        ("dev", "true"), ("dev-server", "true")}  # `all` split per context (fakes.netlify.env)
    assert current["id"] == running.id and running.env == {FLAG: "true"}
    assert after["id"] == build["deploy_id"]
    assert backend.get_deploy(build["deploy_id"]).env == {FLAG: "false"}
