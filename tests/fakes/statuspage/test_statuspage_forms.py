"""Statuspage's form-encoded writes, as its API reference's curl examples send them
(``-d "incident[name]=…"``): accepted as the JSON body would be (``fakes.statuspage.forms``).
The end-to-end test runs curl itself against the fake on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from fakes.statuspage.forms import form_bool, nest
from fakes.statuspage.router import build_app
from tests.fakes.statuspage.conftest import API_KEY
from tests.servers import serve_in_thread

FORM = {"Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"OAuth {API_KEY}"}


def test_rails_style_names_nest_into_objects_and_lists() -> None:
    assert nest([("incident[name]", "Contacts down"), ("incident[component_ids][]", "a"),
                 ("incident[component_ids][]", "b"), ("incident[components][a]", "major_outage")]
                ) == {"incident": {"name": "Contacts down", "component_ids": ["a", "b"],
                                   "components": {"a": "major_outage"}}}


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False),
                                                 ("true", True), ("1", True), (None, True)])
def test_a_form_boolean_reads_as_rails_casts_it(value, expected) -> None:
    assert form_bool(value) is expected


def test_a_form_incident_is_created_with_its_components(http, page_id, components) -> None:
    """POST …/incidents with a form body → 201, the same incident JSON would make."""
    cid = next(iter(components.values()))
    done = http("POST", f"/v1/pages/{page_id}/incidents", headers=FORM,
                content=f"incident[name]=Contacts+down&incident[status]=investigating"
                        f"&incident[components][{cid}]=major_outage"
                        f"&incident[component_ids][]={cid}"
                        "&incident[deliver_notifications]=false")
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["name"], body["status"]) == ("Contacts down", "investigating")
    assert [c["id"] for c in body["components"]] == [cid]


def test_a_form_without_the_wrapper_is_refused_in_statuspage_shape(http, page_id) -> None:
    done = http("POST", f"/v1/pages/{page_id}/incidents", headers=FORM, content="name=x")
    assert done.status_code == 400
    assert done.json() == {"error": "incident is missing"}


def test_a_malformed_parameter_name_is_a_400(http, page_id) -> None:
    done = http("POST", f"/v1/pages/{page_id}/incidents", headers=FORM,
                content="incident[name=x")
    assert done.status_code == 400 and "error" in done.json()


def test_curl_as_in_statuspage_docs_creates_then_resolves_an_incident(backend,
                                                                      page_id) -> None:
    """The reference's own curl style, end to end: create, then PATCH to resolved."""
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not on PATH")
    with serve_in_thread(build_app(backend)) as base:
        def run(*args: str) -> dict:
            done = subprocess.run([curl, "-sS", "--fail-with-body", "-H",
                                   f"Authorization: OAuth {API_KEY}", *args],
                                  capture_output=True, text=True, timeout=30, check=True)
            return json.loads(done.stdout)

        made = run("-X", "POST", f"{base}/v1/pages/{page_id}/incidents",
                   "-d", "incident[name]=Contacts redesign errors",
                   "-d", "incident[status]=identified")
        done = run("-X", "PATCH", f"{base}/v1/pages/{page_id}/incidents/{made['id']}",
                   "-d", "incident[status]=resolved")
    assert made["status"] == "identified" and done["status"] == "resolved"
