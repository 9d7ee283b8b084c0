"""The Engine API subset compose and the docker CLI use, in-process over ASGI: versioned
and bare paths alike, Docker's ``{"message"}`` errors, JSON label filters, pulls."""

from __future__ import annotations

import asyncio
import json

from fakes.docker.compose import compose_config
from tests.fakes.clients import InProcessClient

V = "/v1.43"
PROJECT = {"label": ["com.docker.compose.project=logos-vision"]}


def test_ping_announces_the_api_version_for_negotiation(api):
    """HEAD and GET /_ping carry Api-Version (the CLI then uses /v1.43/…) and OSType."""
    async def script(c):
        head, get = await c.head("/_ping"), await c.get("/_ping")
        return head, get, await c.get(V + "/_ping")

    head, get, versioned = api(script)
    for r in (head, get, versioned):
        assert r.status_code == 200
        assert r.headers["api-version"] == "1.43" and r.headers["ostype"] == "linux"
    assert get.text == "OK"


def test_version_and_info_describe_the_engine(api, web):
    async def script(c):
        return (await c.get(V + "/version")).json(), (await c.get("/info")).json()

    version, info = api(script)
    assert (version["Version"], version["ApiVersion"]) == ("24.0.7", "1.43")
    assert version["Components"][0]["Name"] == "Engine"
    assert (info["Containers"], info["ContainersRunning"], info["Images"]) == (1, 1, 1)


def test_a_version_the_daemon_does_not_speak_is_refused_in_its_words(api):
    async def script(c):
        return await c.get("/v1.50/containers/json"), await c.get("/v1.5/containers/json")

    new, old = api(script)
    assert (new.status_code, new.json()) == (400, {
        "message": "client version 1.50 is too new. Maximum supported API version is 1.43"})
    assert old.status_code == 400 and "too old" in old.json()["message"]


def test_containers_list_by_compose_label_in_both_filter_forms(api, clock, backend, web):
    """``{"label": ["k=v"]}`` (compose) and ``{"label": {"k=v": true}}`` (the CLI) agree;
    without ``all`` only running containers are listed."""
    backend.stop_container(web.id)
    clock.advance(2.0)
    legacy = {"label": {PROJECT["label"][0]: True}}

    async def script(c):
        running = (await c.get(V + "/containers/json")).json()
        listed = [(await c.get(V + "/containers/json",
                               params={"all": "1", "filters": json.dumps(f)})).json()
                  for f in (PROJECT, legacy, {"label": ["com.docker.compose.project=other"]})]
        return running, listed

    running, (new_form, old_form, other) = api(script)
    assert running == []
    assert new_form == old_form and other == []
    [entry] = new_form
    assert entry["Names"] == ["/logos-vision-web-1"] and entry["Id"] == web.id
    assert entry["Image"] == "logos-vision-crm:current" and entry["State"] == "exited"
    assert entry["Status"].startswith("Exited (0)")


def test_the_compose_up_calls_create_start_and_report_health(api, clock, backend):
    """Network, create (201, Id), start (204), inspect: State.Health starting → healthy."""
    backend.preload_image("logos-vision-crm:previous")
    config = compose_config("logos-vision-crm:previous", "logos-vision", "web",
                            "logos-vision_default")

    async def script(c):
        net = await c.post(V + "/networks/create", json={
            "Name": "logos-vision_default", "Labels": {"com.docker.compose.project": "x"}})
        created = await c.post(V + "/containers/create", params={"name": "logos-vision-web-1"},
                               json=config)
        cid = created.json()["Id"]
        started = await c.post(f"{V}/containers/{cid}/start")
        again = await c.post(f"{V}/containers/{cid}/start")
        first = (await c.get(f"{V}/containers/logos-vision-web-1/json")).json()
        clock.advance(10.0)
        later = (await c.get(f"{V}/containers/{cid[:12]}/json")).json()
        return net, created, started, again, first, later

    net, created, started, again, first, later = api(script)
    assert net.status_code == 201 and net.json()["Warning"] == ""
    assert created.status_code == 201 and created.json()["Warnings"] == []
    assert (started.status_code, again.status_code) == (204, 304)
    assert first["State"]["Status"] == "running" and first["State"]["Health"]["Status"] == \
        "starting"
    assert later["State"]["Health"]["Status"] == "healthy"
    assert later["Config"]["Labels"]["com.docker.compose.service"] == "web"
    assert later["Name"] == "/logos-vision-web-1"


def test_errors_take_dockers_shape_and_the_app_keeps_serving(api, web):
    """404/409/500/400 are each ``{"message": …}``; afterwards the API still answers."""
    config = compose_config("logos-vision-crm:current", "logos-vision", "web",
                            "logos-vision_default")
    missing = dict(config, Image="logos-vision-crm:previous")

    async def script(c):
        got = {
            "no container": await c.get(V + "/containers/nope/json"),
            "no image": await c.get(V + "/images/logos-vision-crm:previous/json"),
            "create without image": await c.post(V + "/containers/create", json=missing),
            "name in use": await c.post(V + "/containers/create",
                                        params={"name": "logos-vision-web-1"}, json=config),
            "remove running": await c.delete(f"{V}/containers/{web.id}"),
            "bad json": await c.post(V + "/containers/create", content=b"{not json"),
            "bad filter": await c.get(V + "/containers/json", params={"filters": '{"x":[1]}'}),
            "no route": await c.get(V + "/swarm/secrets"),
            "no tag": await c.post(V + "/images/create",
                                   params={"fromImage": "logos-vision-crm", "tag": "nope"}),
        }
        second = (await c.post(V + "/containers/create", params={"name": "web-2"},
                               json=config)).json()["Id"]
        got["port taken"] = await c.post(f"{V}/containers/{second}/start")
        return got, await c.get("/_ping"), await c.get(V + "/containers/json")

    got, ping, listed = api(script)
    expected = {"no container": (404, "No such container: nope"),
                "no image": (404, "No such image: logos-vision-crm:previous"),
                "create without image": (404, "No such image: logos-vision-crm:previous"),
                "name in use": (409, 'Conflict. The container name "/logos-vision-web-1"'),
                "remove running": (409, "You cannot remove a running container"),
                "bad json": (400, "malformed JSON body"),
                "bad filter": (400, "invalid filter 'x'"),
                "no route": (404, "page not found"),
                "no tag": (404, "manifest for logos-vision-crm:nope not found"),
                "port taken": (500, "Bind for 0.0.0.0:3000 failed: port is already allocated")}
    for what, (status, start) in expected.items():
        r = got[what]
        assert r.status_code == status, what
        assert set(r.json()) == {"message"} and start in r.json()["message"], what
    assert ping.status_code == 200 and len(listed.json()) == 1


def test_a_pull_answers_at_once_and_the_image_appears_when_the_clock_says(api, clock, web):
    """Default mode: every progress line now; ``/images/{name}/json`` 404 until done."""
    async def script(c):
        pulled = await c.post(V + "/images/create",
                              params={"fromImage": "docker.io/library/logos-vision-crm",
                                      "tag": "previous"})
        before = await c.get(V + "/images/logos-vision-crm:previous/json")
        clock.advance(60.0)
        after = await c.get(V + "/images/docker.io/library/logos-vision-crm:previous/json")
        listed = (await c.get(V + "/images/json")).json()
        return pulled, before, after, listed

    pulled, before, after, listed = api(script)
    lines = [json.loads(x) for x in pulled.text.splitlines()]
    assert pulled.status_code == 200
    assert lines[-1] == {"status": "Status: Downloaded newer image for logos-vision-crm:previous"}
    assert before.status_code == 404
    assert after.status_code == 200
    assert after.json()["Config"]["Labels"]["version"] == "1.9.0"
    assert sorted(tag for image in listed for tag in image["RepoTags"]) == [
        "logos-vision-crm:current", "logos-vision-crm:previous"]


def test_follow_mode_streams_the_pull_as_the_clock_passes(api, clock, web):
    """``follow=True`` (drill serve): the answer ends only once the image is local."""
    async def script(c):
        task = asyncio.create_task(c.post(V + "/images/create",
                                          params={"fromImage": "logos-vision-crm:previous"}))
        await asyncio.sleep(0.1)
        waiting = not task.done()
        clock.advance(60.0)
        response = await asyncio.wait_for(task, 5.0)
        image = await c.get(V + "/images/logos-vision-crm:previous/json")
        return waiting, response, image

    waiting, response, image = api(script, follow=True)
    assert waiting
    assert response.text.rstrip().endswith(
        '"Status: Downloaded newer image for logos-vision-crm:previous"}')
    assert image.status_code == 200


def test_networks_create_list_and_remove(api, backend, web):
    """A name is unique (409); a network with a running container cannot go (403)."""
    async def script(c):
        dup = await c.post("/networks/create", json={"Name": "logos-vision_default"})
        mine = (await c.get("/networks", params={"filters": json.dumps(PROJECT)})).json()
        busy = await c.delete(f"/networks/{mine[0]['Id']}")
        await c.post(f"/containers/{web.id}/stop", params={"t": 0})
        removed = await c.delete(f"/networks/{mine[0]['Id']}")
        return dup, mine, busy, removed

    dup, mine, busy, removed = api(script)
    assert dup.status_code == 409 and "already exists" in dup.json()["message"]
    assert [n["Name"] for n in mine] == ["logos-vision_default"]
    assert busy.status_code == 403 and "has active endpoints" in busy.json()["message"]
    assert removed.status_code == 204


def test_control_plane_state_and_reset(api, web):
    async def script(c):
        state = (await c.get("/_fake/state")).json()
        await c.post("/_fake/reset")
        return state, (await c.get("/_fake/state")).json()

    state, after = api(script)
    assert state["serving"]["version"] == "2.0.0"
    assert [c["name"] for c in state["containers"]] == ["logos-vision-web-1"]
    assert after["containers"] == [] and after["serving"] is None


def test_fault_injection_and_timings_plug_in_by_operation_name(clock, backend, web):
    """``fakes.common.fault_router.install`` works on this app: a rule on ``pull_image`` fails
    pulls in Docker's shape, and ``/_fake/timings`` sets the bandwidth."""
    from fakes.common.fault_router import install
    from fakes.common.faults import FaultInjector, FaultRule
    from fakes.docker.router import build_app, timings

    app = build_app(backend)
    install(app, FaultInjector(clock, rules=[FaultRule("pull_image", error_rate=1.0,
                                                       status=500, message="registry down")]),
            timings=timings(backend))

    async def script(c):
        pulled = await c.post(V + "/images/create", params={"fromImage": "x:y"})
        set_ = await c.post("/_fake/timings", json={"bandwidth": 1e6})
        return pulled, set_, await c.get(V + "/_ping")

    pulled, set_, ping = InProcessClient(app, "http://docker.test").run(script)
    assert (pulled.status_code, pulled.json()) == (500, {"message": "registry down"})
    assert set_.json()["bandwidth"] == 1e6 and backend.bandwidth == 1e6
    assert ping.status_code == 200


def test_the_app_reads_its_backend_per_request_so_a_stand_in_can_be_rebound(clock, backend,
                                                                             web):
    """Drills build each app once over a stand-in and rebind it: nothing is read at build."""
    from fakes.docker.router import build_app

    class StandIn:
        target = None

        def __getattr__(self, name):
            return getattr(type(self).target, name)

    app = build_app(StandIn())  # type: ignore[arg-type]
    StandIn.target = backend

    containers = InProcessClient(app, "http://docker.test").get(V + "/containers/json").json()
    assert [c["Names"] for c in containers] == [["/logos-vision-web-1"]]


def test_the_openapi_schema_builds_for_every_route(api):
    """Each method of each path (bare and versioned) has its own operation id."""
    async def script(c):
        return (await c.get("/_fake/openapi.json")).json()

    paths = api(script)["paths"]
    assert set(paths["/_ping"]) == {"get", "head"}
    assert "/{version}/images/{name}/json" in paths
