"""The HTTP face under /api/v1: Netlify's field names, status codes and error shape."""

from __future__ import annotations

import pytest

FLAG = "VITE_FEATURE_CONTACTS_REDESIGN"
# The deploy fields clients and scripts read (vendor-apis.md §2, Netlify's `deploy` model).
DEPLOY_FIELDS = {"id", "site_id", "build_id", "state", "name", "url", "ssl_url", "deploy_url",
                 "deploy_ssl_url", "admin_url", "created_at", "updated_at", "published_at",
                 "context", "branch", "commit_ref", "title", "error_message", "locked",
                 "skipped", "draft", "user_id", "review_id", "required", "deploy_time"}
SITE_FIELDS = {"id", "name", "url", "ssl_url", "admin_url", "account_id", "account_slug",
               "account_name", "published_deploy", "build_settings", "use_envelope",
               "feature_flags", "created_at", "updated_at"}
ACCOUNT_FIELDS = {"id", "slug", "name", "type", "created_at", "updated_at"}
ENV_FIELDS = {"key", "scopes", "values", "is_secret", "updated_at", "updated_by"}


def test_site_deploys_and_accounts_carry_netlify_fields(api, world):
    """getSite (?feature_flags=cli), listSites, accounts (?minimal=true), getSiteDeploy,
    getDeploy: Netlify's field names, ISO times, published_at set once published."""
    site = world.site.id

    async def script(c):
        paths = [f"/api/v1/sites/{site}?feature_flags=cli", "/api/v1/sites?name=contacts",
                 "/api/v1/accounts?minimal=true", f"/api/v1/sites/{site}/deploys/{world.v1.id}",
                 f"/api/v1/deploys/{world.v2.id}", "/api/v1/accounts/drill", "/api/v1/user",
                 "/api/v1/sites/contacts-web.netlify.app"]
        return [(await c.get(p)).json() for p in paths]

    got_site, sites, accounts, v1, v2, account, user, by_host = api(script)
    assert by_host["id"] == site
    assert got_site.keys() >= SITE_FIELDS and got_site["account_slug"] == "drill"
    assert got_site["published_deploy"]["id"] == world.v2.id
    assert [s["id"] for s in sites] == [site]
    assert accounts[0].keys() >= ACCOUNT_FIELDS and accounts[0]["slug"] == "drill"
    assert account["id"] == got_site["account_id"] == accounts[0]["id"]
    assert v1.keys() >= DEPLOY_FIELDS and "meta" not in v1
    assert (v1["state"], v1["context"], v1["commit_ref"], v1["title"]) == (
        "ready", "production", "aaa111", "v1")
    assert v1["published_at"] == "2026-01-25T13:00:00.000Z"
    assert v1["deploy_ssl_url"] == f"https://{world.v1.id}--contacts-web.netlify.app"
    assert v2["ssl_url"] == "https://contacts-web.netlify.app" and v2["locked"] is False
    assert user["email"] == "drill@example.com"


def test_list_site_deploys_is_an_array_with_filters_and_paging(api, backend, world):
    """?production=true&state=ready&page&per_page, branch, latest-published."""
    backend.create_deploy(world.site.id, context="branch-deploy", branch="beta")
    site = world.site.id

    async def script(c):
        base = f"/api/v1/sites/{site}/deploys"
        return [(await c.get(base, params=p)).json() for p in (
            {}, {"production": "true", "state": "ready", "page": 1, "per_page": 1},
            {"production": "true", "page": 2, "per_page": 1}, {"branch": "beta"},
            {"latest-published": "true"})]

    every, first, second, beta, latest = api(script)
    assert isinstance(every, list) and len(every) == 3
    assert [d["id"] for d in first] == [world.v2.id]
    assert [d["id"] for d in second] == [world.v1.id]
    assert [d["context"] for d in beta] == ["branch-deploy"]
    assert [d["id"] for d in latest] == [world.v2.id]


def test_create_site_deploy_and_trigger_build_start_builds(api, clock, backend, world):
    """POST /sites/{id}/deploys starts a build (draft → an unpublished deploy preview);
    POST /sites/{id}/builds answers a build whose deploy goes ready on the clock."""
    site = world.site.id

    async def script(c):
        deploy = await c.post(f"/api/v1/sites/{site}/deploys", params={"title": "hotfix"},
                              json={"files": {}, "branch": "main"})
        draft = await c.post(f"/api/v1/sites/{site}/deploys", json={"draft": True})
        build = await c.post(f"/api/v1/sites/{site}/builds", params={"branch": "beta"})
        clock.set(70.0)
        done = await c.get(f"/api/v1/builds/{build.json()['id']}")
        builds = await c.get(f"/api/v1/sites/{site}/builds")
        return deploy, draft, build, done, builds

    deploy, draft, build, done, builds = api(script)
    assert deploy.status_code == 200 and deploy.json()["state"] == "enqueued"
    assert (deploy.json()["title"], deploy.json()["context"]) == ("hotfix", "production")
    assert (draft.json()["draft"], draft.json()["context"]) == (True, "deploy-preview")
    assert build.json()["done"] is False
    assert backend.get_deploy(build.json()["deploy_id"]).context == "branch-deploy"
    assert done.json() == build.json() | {"done": True}
    assert len(builds.json()) == 5
    assert backend.published_deploy(site).id == deploy.json()["id"]


def test_env_var_crud_through_the_account_scoped_api(api, world):
    """createEnvVars (array, 201), getEnvVars, getEnvVar, updateEnvVar (PUT),
    setEnvVarValue (PATCH 201), deleteEnvVarValue (204), deleteEnvVar (204)."""
    base = "/api/v1/accounts/drill/env"
    q = {"site_id": world.site.id}
    pct = {"key": "VITE_ROLLOUT_PERCENTAGE", "scopes": ["builds"],
           "values": [{"value": "10", "context": "production"}]}

    async def script(c):
        out = {"create": await c.post(base, params=q, json=[pct])}
        out["dup"] = await c.post(base, params=q, json=[pct])
        out["list"] = await c.get(base, params=q | {"context_name": "production"})
        out["put"] = await c.put(f"{base}/{pct['key']}", params=q, json={
            "scopes": ["builds", "functions"],
            "values": [{"value": "25", "context": "all"},
                       {"value": "50", "context": "deploy-preview"}]})
        out["patch"] = await c.patch(f"{base}/{pct['key']}", params=q,
                                     json={"context": "deploy-preview", "value": "75"})
        value_id = next(v["id"] for v in out["patch"].json()["values"]
                        if v["context"] == "deploy-preview")
        out["del_value"] = await c.delete(f"{base}/{pct['key']}/value/{value_id}", params=q)
        out["get"] = await c.get(f"{base}/{pct['key']}", params=q)
        out["delete"] = await c.delete(f"{base}/{pct['key']}", params=q)
        out["gone"] = await c.get(f"{base}/{pct['key']}", params=q)
        return out

    out = api(script)
    assert out["create"].status_code == 201
    created = out["create"].json()[0]
    assert created.keys() >= ENV_FIELDS and created["scopes"] == ["builds"]
    assert out["dup"].json() == {"code": 422, "message":
                                 "Environment variable VITE_ROLLOUT_PERCENTAGE already exists"}
    assert {v["key"] for v in out["list"].json()} == {FLAG, "VITE_ROLLOUT_PERCENTAGE"}
    assert out["put"].status_code == 200 and out["put"].json()["scopes"] == ["builds",
                                                                             "functions"]
    assert out["patch"].status_code == 201
    # Setting one context splits `all` into a value per deploy context (fakes.netlify.env).
    assert sorted((v["context"], v["value"]) for v in out["patch"].json()["values"]) == [
        ("branch-deploy", "25"), ("deploy-preview", "75"), ("dev", "25"),
        ("dev-server", "25"), ("production", "25")]
    assert out["del_value"].status_code == 204 and out["del_value"].content == b""
    assert sorted(v["context"] for v in out["get"].json()["values"]) == [
        "branch-deploy", "dev", "dev-server", "production"]
    assert out["delete"].status_code == 204 and out["delete"].content == b""
    assert out["gone"].status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "drill_token"}])
def test_a_missing_or_bad_token_gets_401_in_netlify_shape(api, world, headers):
    """Any bad token: 401 {"code": 401, "message": "Access Denied: …"}, nothing done."""
    async def script(c):
        c.headers.pop("Authorization")
        return await c.put(f"/api/v1/sites/{world.site.id}/rollback", headers=headers)

    r = api(script)
    assert r.status_code == 401
    assert r.json() == {"code": 401, "message": "Access Denied: Origin returned bad status 401"}
    assert world.site.pending is None


def test_unknown_deploy_is_404_and_the_app_keeps_serving(api, world):
    """A 404 {"code", "message"}, then the next call is served normally."""
    async def script(c):
        return (await c.get("/api/v1/deploys/0123456789abcdef01234567"),
                await c.post(f"/api/v1/sites/{world.site.id}/deploys/nope/restore"),
                await c.get("/api/v1/sites/no-such-site"),
                await c.get(f"/api/v1/deploys/{world.v1.id}"))

    missing, restore, site, ok = api(script)
    for r in (missing, restore, site):
        assert r.status_code == 404
        assert r.json()["code"] == 404 and r.json()["message"]
    assert ok.status_code == 200 and ok.json()["id"] == world.v1.id


def test_malformed_json_is_400_and_invalid_bodies_422(api, world):
    """Not JSON → 400; JSON of the wrong shape or an invalid parameter → 422; both
    in Netlify's shape."""
    base = "/api/v1/accounts/drill/env"
    bad_json = {"content": b"[{not json", "headers": {"Content-Type": "application/json"}}

    async def script(c):
        return (
            [await c.post(base, **bad_json),
             await c.patch(f"{base}/{FLAG}", params={"site_id": world.site.id}, **bad_json)],
            [await c.post(base, json={"key": "NOT_A_LIST"}),
             await c.post(base, json=[{"key": "X", "values": [{"value": 1}]}]),
             await c.patch(f"{base}/{FLAG}", params={"site_id": world.site.id},
                           json={"context": "staging", "value": "x"}),
             await c.get(f"/api/v1/sites/{world.site.id}/deploys",
                         params={"per_page": "many"})])

    bad, invalid = api(script)
    for r in bad:
        assert r.status_code == 400 and r.json()["code"] == 400
        assert r.json()["message"].startswith("malformed JSON body")
    for r in invalid:
        assert r.status_code == 422 and r.json()["code"] == 422 and r.json()["message"]


def test_unknown_routes_and_methods_answer_in_netlify_shape(api, world):
    """A path or method the fake does not model still gets {"code", "message"}."""
    async def script(c):
        return (await c.get("/api/v1/nothing/here"), await c.get("/elsewhere"),
                await c.delete(f"/api/v1/sites/{world.site.id}/rollback"))

    missing, outside, method = api(script)
    assert missing.json() == outside.json() == {"code": 404, "message": "Not Found"}
    assert method.status_code == 405
    assert method.json() == {"code": 405, "message": "Method Not Allowed"}


def test_control_plane_shows_state_and_resets(api, world):
    """/_fake/state needs no token; /_fake/reset forgets sites, deploys and variables."""
    async def script(c):
        c.headers.pop("Authorization")
        state = (await c.get("/_fake/state")).json()
        await c.post("/_fake/reset")
        return state, (await c.get("/_fake/state")).json()

    before, after = api(script)
    assert [s["name"] for s in before["sites"]] == ["contacts-web"]
    assert before["deploys"][1]["meta"] == {"version": "2.0.0", "hasRedesign": True}
    assert [v["key"] for v in before["env"]] == [FLAG]
    assert after["sites"] == [] and after["deploys"] == [] and after["env"] == []
    assert [a["slug"] for a in after["accounts"]] == ["drill"]


@pytest.mark.parametrize(("scopes", "status"), [
    (["builds", "functions", "runtime", "post_processing"], 201),  # netlify-cli's default
    (["post-processing"], 201),                                     # the API schema's
    (["everything"], 422), ([], 422), ("builds", 422)])
def test_env_scopes_accept_both_spellings_of_post_processing_and_nothing_else(
        api, world, scopes, status):
    """Netlify's four scopes, ``post_processing`` spelled either way (netlify-cli sends the
    underscore); anything else is a 422 in Netlify's shape."""
    async def script(c):
        return await c.post("/api/v1/accounts/drill/env", params={"site_id": world.site.id},
                            json=[{"key": "NEW_VAR", "scopes": scopes,
                                   "values": [{"value": "x", "context": "all"}]}])

    done = api(script)
    assert done.status_code == status
    if status == 422:
        assert done.json()["code"] == 422
    else:
        assert "post-processing" in done.json()[0]["scopes"]
