"""The HTTP face: paths under any /v<n>, Vercel's field names and error shapes."""

from __future__ import annotations

import pytest

# Required by @vercel/sdk 1.28's zod schemas (getDeployments item, getDeployment body 2,
# getProject body, getTeam); the fake must never drop one of them.
LIST_ITEM_FIELDS = {"uid", "name", "url", "created", "createdAt", "creator", "inspectorUrl",
                    "projectId", "readyState", "type"}
GET_FIELDS = {"id", "url", "name", "projectId", "ownerId", "readyState", "status", "createdAt",
              "buildingAt", "bootedAt", "aliasAssigned", "build", "env", "inspectorUrl",
              "isInConcurrentBuildsQueue", "isInSystemBuildsQueue", "projectSettings",
              "buildSkipped", "creator", "public", "type", "meta", "regions", "version",
              "plan", "createdIn", "routes"}
PROJECT_FIELDS = {"id", "name", "accountId", "alias", "deploymentExpiration",
                  "directoryListing", "nodeVersion", "resourceConfig", "defaultResourceConfig",
                  "lastAliasRequest", "targets"}
TEAM_FIELDS = {"id", "slug", "name", "avatar", "createdAt", "updatedAt", "creatorId",
               "billing", "description", "stagingPrefix"}


@pytest.mark.parametrize("version", ["v6", "v7"])
def test_list_items_use_uid_and_get_uses_id(api, world, version):
    """v6/v7 list items are keyed `uid`; v13 get is keyed `id` (by id or by host)."""
    pid = world.project.id

    async def script(c):
        listed = await c.get(f"/{version}/deployments",
                             params={"projectId": pid, "target": "production", "limit": 20,
                                     "teamId": "team_drill"})
        by_id = await c.get(f"/v13/deployments/{world.v2.id}")
        by_url = await c.get(f"/v13/deployments/{world.v2.url}")
        return listed, by_id, by_url

    listed, by_id, by_url = api(script)
    items = listed.json()["deployments"]
    assert [d["uid"] for d in items] == [world.v2.id, world.v1.id]
    assert all("id" not in d and d.keys() >= LIST_ITEM_FIELDS for d in items)
    assert items[0]["readySubstate"] == "PROMOTED" and items[0]["isRollbackCandidate"]
    assert listed.json()["pagination"] == {"count": 2, "next": None, "prev": None}
    body = by_id.json()
    assert body.keys() >= GET_FIELDS and "uid" not in body
    assert body["id"] == world.v2.id and body["team"]["id"] == "team_drill"
    assert body["meta"] == {"githubCommitSha": "bbb222", "version": "2.0.0"}
    assert "contacts-web.vercel.app" in body["alias"]
    assert by_url.json()["id"] == world.v2.id


def test_env_var_crud_through_v9_and_v10(api, world):
    """Create (v10, one object; v9, a list), conflict without upsert, upsert, list,
    edit (v9), get (v1), delete (v10)."""
    pid = world.project.id
    base9, base10 = f"/v9/projects/{pid}/env", f"/v10/projects/{pid}/env"
    pct = {"key": "VITE_ROLLOUT_PERCENTAGE", "value": "10", "type": "encrypted",
           "target": ["production", "preview"]}

    async def script(c):
        out = {"one": await c.post(base10, json=pct)}
        out["dup"] = await c.post(base10, json=pct)
        out["many"] = await c.post(base9, json=[
            {"key": "VITE_PULSE_SYNC_ENABLED", "value": "true", "type": "plain",
             "target": "production"}, pct])
        out["upsert"] = await c.post(base10 + "?upsert=true", json=pct | {"value": "50"})
        env_id = out["one"].json()["created"]["id"]
        out["list"] = await c.get(base10, params={"target": "production"})
        out["edit"] = await c.patch(f"{base9}/{env_id}", json={"value": "100"})
        out["get"] = await c.get(f"/v1/projects/{pid}/env/{env_id}")
        out["delete"] = await c.delete(f"{base10}/{env_id}")
        out["gone"] = await c.get(f"/v1/projects/{pid}/env/{env_id}")
        return out

    out = api(script)
    assert out["one"].status_code == 201
    created = out["one"].json()["created"]
    assert created["id"].startswith("env_") and created["target"] == ["production", "preview"]
    assert out["dup"].status_code == 400
    assert out["dup"].json()["error"]["code"] == "ENV_ALREADY_EXISTS"
    many = out["many"].json()
    assert [e["key"] for e in many["created"]] == ["VITE_PULSE_SYNC_ENABLED"]
    assert many["failed"][0]["error"]["code"] == "ENV_ALREADY_EXISTS"
    assert out["upsert"].json()["created"]["id"] == created["id"]
    assert {e["key"] for e in out["list"].json()["envs"]} == {
        "VITE_FEATURE_CONTACTS_REDESIGN", "VITE_ROLLOUT_PERCENTAGE", "VITE_PULSE_SYNC_ENABLED"}
    assert out["edit"].json()["value"] == "100"
    assert out["get"].json()["value"] == "100"
    assert out["delete"].json()["id"] == created["id"]
    assert out["gone"].status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "drill_token"}])
def test_a_missing_or_bad_token_gets_403_not_authorized(api, world, headers):
    """Vercel answers 403 forbidden "Not authorized" (not 401) for any bad token."""
    async def script(c):
        c.headers.pop("Authorization")
        return await c.get("/v2/user", headers=headers)

    r = api(script)
    assert r.status_code == 403
    assert r.json()["error"] == {"code": "forbidden", "message": "Not authorized",
                                 "invalidToken": True}


def test_unknown_deployment_is_404_and_the_app_keeps_serving(api, world):
    """A 404 in Vercel's shape, then the next call is served normally."""
    async def script(c):
        return (await c.get("/v13/deployments/dpl_nope"),
                await c.post(f"/v1/projects/{world.project.id}/rollback/dpl_nope"),
                await c.get(f"/v13/deployments/{world.v1.id}"))

    missing, rollback, ok = api(script)
    assert missing.status_code == 404 and rollback.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert ok.status_code == 200 and ok.json()["id"] == world.v1.id


def test_malformed_json_is_400_bad_request(api, world):
    """A body that is not JSON, or not an object, gets Vercel's 400 shape."""
    async def script(c):
        bad = await c.post("/v13/deployments", content=b"{not json",
                           headers={"Content-Type": "application/json"})
        array = await c.post("/v13/deployments", json=["contacts-web"])
        limit = await c.get("/v6/deployments", params={"limit": "many"})
        return bad, array, limit

    for r in api(script):
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "bad_request"
        assert r.json()["error"]["message"]


def test_redeploy_through_v13_builds_on_the_clock(api, clock, world):
    """POST /v13/deployments {name, deploymentId, target} → 200 QUEUED; READY at t+q+d."""
    body = {"name": "contacts-web", "deploymentId": world.v2.id, "target": "production",
            "meta": {"action": "redeploy"}}

    async def script(c):
        created = (await c.post("/v13/deployments?teamId=team_drill", json=body)).json()
        clock.advance(70.0)
        return created, (await c.get(f"/v13/deployments/{created['id']}")).json()

    created, later = api(script)
    assert created["readyState"] == "QUEUED" and created["target"] == "production"
    assert created["meta"] == {"githubCommitSha": "bbb222", "version": "2.0.0",
                               "action": "redeploy"}
    assert later["readyState"] == "READY" and later["readySubstate"] == "PROMOTED"
    assert later["env"] == ["VITE_FEATURE_CONTACTS_REDESIGN"]


def test_account_project_and_cli_side_calls(api, world):
    """The calls the CLI makes around a rollback: user, team (with and without a version),
    project, custom environments, builds, rollback aliases, events."""
    pid = world.project.id

    async def script(c):
        paths = ["/v2/user", "/teams/team_drill", "/v2/teams/team_drill",
                 f"/v9/projects/{pid}?rollbackInfo=true", "/v9/projects/contacts-web",
                 f"/projects/{pid}/custom-environments",
                 f"/v11/deployments/{world.v2.id}/builds",
                 f"/v9/projects/{pid}/rollback/aliases?failedOnly=true&limit=20",
                 f"/v3/deployments/{world.v2.id}/events", "/teams/team_other",
                 "/x9/user"]
        return [await c.get(p) for p in paths]

    (user, team, team2, project, by_name, custom, builds, aliases, events,
     other_team, bad_version) = api(script)
    assert user.json()["user"]["defaultTeamId"] == "team_drill"
    assert team.json().keys() >= TEAM_FIELDS and team.json() == team2.json()
    assert project.json().keys() >= PROJECT_FIELDS
    assert project.json()["targets"]["production"]["id"] == world.v2.id
    assert by_name.json()["id"] == pid
    assert custom.json() == {"environments": []}
    assert builds.json() == {"builds": []}
    assert aliases.json() == {"aliases": [], "pagination": {"next": None}}
    assert [e["info"]["readyState"] for e in events.json()] == ["QUEUED", "BUILDING", "READY"]
    assert other_team.status_code == 404 and bad_version.status_code == 404


def test_control_plane_shows_state_and_resets(api, world):
    """/_fake/state needs no token; /_fake/reset forgets projects and deployments."""
    async def script(c):
        c.headers.pop("Authorization")
        state = (await c.get("/_fake/state")).json()
        await c.post("/_fake/reset")
        return state, (await c.get("/_fake/state")).json()

    before, after = api(script)
    assert [p["name"] for p in before["projects"]] == ["contacts-web"]
    assert len(before["deployments"]) == 2
    assert after["projects"] == [] and after["deployments"] == []


def test_meta_keeps_python_values_in_the_backend_and_strings_on_the_wire(api, backend, world):
    """The simulation reads meta as seeded (a bool stays a bool); Vercel's API sends
    string values only, JSON-style, and refuses non-string meta in a create."""
    dep = backend.create_deployment(world.project.id, ready_at=-1.0,
                                    meta={"version": "2.0.1", "hasRedesign": False})
    assert backend.get_deployment(dep.id).meta["hasRedesign"] is False

    async def script(c):
        got = await c.get(f"/v13/deployments/{dep.id}")
        bad = await c.post("/v13/deployments", json={"name": "contacts-web",
                                                      "meta": {"hasRedesign": False}})
        return got, bad

    got, bad = api(script)
    assert got.json()["meta"] == {"version": "2.0.1", "hasRedesign": "false"}
    assert bad.status_code == 400


def test_unknown_routes_and_methods_answer_in_vercel_shape(api, world):
    """A path or method the fake does not model still gets {"error": {code, message}}."""
    async def script(c):
        return (await c.get("/v9/nothing/here"),
                await c.delete(f"/v13/deployments/{world.v2.id}"))

    missing, method = api(script)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (method.status_code, method.json()["error"]["code"]) == (405, "method_not_allowed")
