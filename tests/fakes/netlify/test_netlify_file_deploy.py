"""File-digest deploys (``netlify deploy --dir``, ``fakes.netlify.file_deploys``): the
deploy takes a digest instead of a build, asks for the contents it lacks once each,
refuses contents that do not match, and is ready (and, for production, published)
``file_processing_time`` after the last file (netlify-cli's own run of it:
``test_netlify_cli_deploy.py``)."""

from __future__ import annotations

import hashlib

from tests.fakes.netlify.conftest import World

PAGE = b"<!doctype html><title>Contacts</title>"
SHA = hashlib.sha1(PAGE).hexdigest()


def test_a_digest_deploy_asks_each_content_once_and_goes_ready_after_the_last(
        api, clock, backend, world: World) -> None:
    site = world.site.id

    async def script(c):
        made = (await c.post(f"/api/v1/sites/{site}/deploys", json={"draft": False})).json()
        put = await c.put(f"/api/v1/sites/{site}/deploys/{made['id']}", json={
            "files": {"/index.html": SHA, "/200.html": SHA}, "async": False})
        wrong = await c.put(f"/api/v1/deploys/{made['id']}/files/index.html",
                            content=b"something else")
        stray = await c.put(f"/api/v1/deploys/{made['id']}/files/other.html", content=PAGE)
        good = await c.put(f"/api/v1/deploys/{made['id']}/files/index.html", content=PAGE)
        after = (await c.get(f"/api/v1/sites/{site}/deploys/{made['id']}")).json()
        return made, put, wrong, stray, good, after

    made, put, wrong, stray, good, after = api(script)
    assert put.status_code == 200
    assert (put.json()["state"], put.json()["required"]) == ("uploading", [SHA])
    assert wrong.status_code == 422 and wrong.json()["code"] == 422
    assert stray.status_code == 404
    assert good.status_code == 200 and good.json()["sha"] == SHA
    assert (after["state"], after["required"]) == ("processing", [])
    assert backend.published_deploy(site).id == world.v2.id
    clock.advance(1.0)  # the default file_processing_time
    assert backend.get_deploy(made["id"]).state == "ready"
    assert backend.published_deploy(site).id == made["id"]


def test_a_second_digest_on_the_same_deploy_is_refused(api, world: World) -> None:
    site = world.site.id

    async def script(c):
        made = (await c.post(f"/api/v1/sites/{site}/deploys", json={})).json()
        url = f"/api/v1/sites/{site}/deploys/{made['id']}"
        first = await c.put(url, json={"files": {"/index.html": SHA}})
        again = await c.put(url, json={"files": {"/index.html": SHA}})
        bad = await c.put(url, json={"files": {"/index.html": "not-a-sha"}})
        return first, again, bad

    first, again, bad = api(script)
    assert first.status_code == 200
    assert again.status_code == 422 and bad.status_code == 422
