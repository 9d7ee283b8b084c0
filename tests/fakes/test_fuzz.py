"""Schema-driven fuzz of every fake: schemathesis on the fake's own OpenAPI finds no 5xx.

Each fake serves its OpenAPI at ``/_fake/openapi.json``. For each one this module builds
the app over a backend on a ``ManualClock`` seeded with a little state, loads that schema
from the ASGI app, and lets schemathesis generate requests for every operation (schema-
conforming and schema-violating ones), sent in-process. The rules, for every response:

- it is not a server error (no 5xx, no exception escaping the app), and
- a 4xx is in the vendor's own error shape (what its real clients parse), never
  FastAPI's ``{"detail": …}`` or a bare framework error.

Most routes read a raw ``Request`` body, so the schema declares none; the fuzz adds an
"any JSON or any bytes" body, with an optional ``Content-Encoding``, to every POST, PUT
and PATCH without one, so bodies get fuzzed too. Path parameters are drawn both at
random and from the seeded ids, so requests reach past the 404s into the handlers.
Every fake is fuzzed with its valid credentials and without any (fakes whose secret
travels in the body or the URL have only the second run). Every operation of every
schema must be reachable (each fake's OpenAPI declares all its path parameters:
``fakes.common.openapi``); each run prints the operations reached per fake (``-s``).

Left out: control-plane calls that reconfigure the fake on purpose — ``/_fake/reset``
(it would wipe the seeded state mid-run) and Pulse's ``/_fake/seed`` and ``/_fake/faults``
(their job is to inject failures and resize the directory). Runs are derandomized, and
nothing is written to a Hypothesis database or to the repository. The fuzz tests are
marked ``slow`` (about 30 s together); two quick deterministic tests pin what the fuzz
found: one operationId per operation, and undecodable bodies refused in vendor shape.
"""

from __future__ import annotations

import copy
import json
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode

from fakes.common.clock import ManualClock
from fakes.common.serving import LiveBuild
from fakes.contacts.backend import ContactsBackend
from fakes.contacts.router import build_app as contacts_app
from fakes.docker.backend import DockerBackend
from fakes.docker.router import build_app as docker_app
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.router import build_app as netlify_app
from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY, PagerDutyBackend
from fakes.pagerduty.rest_api import REST_API_KEY
from fakes.pagerduty.router import build_app as pagerduty_app
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app as posthog_app
from fakes.pulse.backend import DEFAULT_API_KEY, PulseBackend
from fakes.pulse.router import build_app as pulse_app
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app as sentry_app
from fakes.slack.backend import SlackBackend
from fakes.slack.router import build_app as slack_app
from fakes.statuspage.backend import StatuspageBackend
from fakes.statuspage.router import build_app as statuspage_app
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app as vercel_app
from rollout.release.flags import FlagEnv, FlagMode
from tests.fakes.clients import InProcessClient

# Examples per operation. Without credentials most requests stop at the auth check, so
# fewer of them still show that rejections are well-formed without doubling the run time.
MAX_EXAMPLES = 25
MAX_EXAMPLES_REJECTED = 10
SCHEMA_PATH = "/_fake/openapi.json"
SKIPPED = {("POST", "/_fake/reset"), ("POST", "/_fake/seed"), ("POST", "/_fake/faults")}
ANY_BODY = {"required": False, "content": {
    "application/json": {"schema": {}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
CONTENT_ENCODING = {"name": "Content-Encoding", "in": "header", "required": False,
                    "schema": {"enum": ["identity", "gzip", "deflate", "br", "x-unknown"]}}


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic (derandomized), no example database, shrinking only on a failure."""
    return settings(max_examples=max_examples, derandomize=True, database=None,
                    deadline=None, phases=[Phase.generate, Phase.shrink], print_blob=False,
                    # Each example is a full ASGI round trip; a busy CI box must not fail
                    # the run for slowness the fakes cannot help.
                    suppress_health_check=[HealthCheck.too_slow])


ErrorShape = Callable[[int, str, bytes], bool]


@dataclass
class Fake:
    """One fake to fuzz: its app, the headers that authenticate, seeded path ids, the
    rule its error bodies follow, and a route that reads a request body (None: none)."""

    app: Any
    credentials: dict[str, str] | None
    known: dict[str, str]
    is_vendor_error: ErrorShape
    body_path: str | None = None


# --- error shapes ------------------------------------------------------------------------

def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _has(obj: Any, *keys: str) -> bool:
    return isinstance(obj, dict) and all(k in obj for k in keys)


def vercel_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    return _has(body, "error") and _has(body["error"], "code", "message")


def netlify_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    return _has(body, "code", "message") and body["code"] == status


def posthog_error(status: int, ctype: str, content: bytes) -> bool:
    if status == 405 and not content:  # DRF's bare 405 on a hard delete
        return True
    return _has(_json(content), "type", "code", "detail", "attr")


def sentry_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    if _has(body, "detail"):
        return isinstance(body["detail"], str)
    # A serializer's field errors: {field: [message, …]}
    return isinstance(body, dict) and len(body) == 1 and all(
        isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values())


def pulse_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    return _has(body, "error") and _has(body["error"], "type", "message", "request_id")


def slack_error(status: int, ctype: str, content: bytes) -> bool:
    return ctype.startswith("text/plain") and re.fullmatch(rb"[a-z_]+", content) is not None


def statuspage_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    return _has(body, "error") and isinstance(body["error"], str)


def pagerduty_error(status: int, ctype: str, content: bytes) -> bool:
    """The Events API's ``{status, message}`` or the REST API v2's ``{"error": {message,
    code}}`` (``fakes.pagerduty.rest_api``): PagerDuty's two APIs shape errors apart."""
    body = _json(content)
    if _has(body, "error") and isinstance(body["error"], dict):
        return isinstance(body["error"].get("message"), str) and \
            isinstance(body["error"].get("code"), int)
    return _has(body, "status", "message") and isinstance(body["message"], str)


def contacts_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    return _has(body, "error") and isinstance(body["error"], str)


# --- seeded fakes ------------------------------------------------------------------------

def vercel(clock: ManualClock) -> Fake:
    backend = VercelBackend(clock, token="drill_token")
    project = backend.create_project("contacts-web", env={"VITE_FEATURE_X": "true"})
    v1 = backend.create_deployment(project.id, ready_at=-3600.0, meta={"version": "1"})
    backend.create_deployment(project.id, ready_at=-600.0, meta={"version": "2"})
    env = backend.list_project_envs(project.id)[0]
    known = {"version": "v9", "team_id": backend.team.id, "id_or_name": project.id,
             "project_id": project.id, "deployment_id": v1.id, "id_or_url": v1.id,
             "env_id": env.id}
    return Fake(vercel_app(backend), {"Authorization": "Bearer drill_token"}, known,
                vercel_error, "/v13/deployments")


def netlify(clock: ManualClock) -> Fake:
    backend = NetlifyBackend(clock, token="drill_token")
    site = backend.create_site("contacts-web")
    account = backend.list_accounts_for_user()[0]
    backend.create_env_vars(account.id, [{"key": "VITE_FEATURE_X", "values": [
        {"value": "true", "context": "all"}]}], site_id=site.id)
    deploy = backend.create_deploy(site.id, ready_at=-600.0, title="v1")
    build = backend.create_site_build(site.id)
    value = backend.get_env_var(account.id, "VITE_FEATURE_X", site_id=site.id).values[0]
    known = {"account_id": account.id, "site_id": site.id, "deploy_id": deploy.id,
             "build_id": build.id, "key": "VITE_FEATURE_X", "value_id": value.id}
    return Fake(netlify_app(backend), {"Authorization": "Bearer drill_token"}, known,
                netlify_error, f"/api/v1/sites/{site.id}/deploys")


def posthog(clock: ManualClock) -> Fake:
    backend = PostHogBackend(clock)
    flag = backend.create_feature_flag("contacts-redesign", filters={"groups": [
        {"properties": [], "rollout_percentage": 30}]})
    known = {"project_id": str(backend.project_id), "flag_id": str(flag.id), "key": flag.key}
    return Fake(posthog_app(backend),
                {"Authorization": f"Bearer {backend.personal_api_key}"}, known, posthog_error,
                "/batch/")


def sentry(clock: ManualClock) -> Fake:
    backend = SentryBackend(clock, webhook_url="http://responder.test/hooks/sentry")
    backend.record_session_aggregates("web@1", "production", 0.0, exited=9, errored=1)
    backend.record_error_events("web@1", "production", 0.0, 3, exc_type="KeyError")
    backend.create_release({"version": "web@1", "projects": [backend.project_slug]})
    rule = backend.create_alert_rule({
        "name": "errors", "aggregate": "count()", "dataset": "events", "query": "",
        "timeWindow": 5, "thresholdType": 0, "projects": [backend.project_slug],
        "triggers": [{"label": "critical", "alertThreshold": 1, "actions": []}]})
    clock.advance(120.0)
    known = {"project_id": str(backend.project_id), "org": backend.org,
             "project": backend.project_slug, "version": "web@1", "rule_id": str(rule["id"])}
    return Fake(sentry_app(backend), {"Authorization": f"Bearer {backend.auth_token}"},
                known, sentry_error, f"/api/{backend.project_id}/envelope/")


def pulse(clock: ManualClock) -> Fake:
    backend = PulseBackend(clock, 7, contacts=40)
    # Pulse's API takes no bodies; its control plane's seed call does.
    return Fake(pulse_app(backend), {"Authorization": f"Bearer {DEFAULT_API_KEY}"},
                {"contact_id": "pc_000001"}, pulse_error, "/_fake/seed")


def slack(clock: ManualClock) -> Fake:
    backend = SlackBackend(clock)
    _, _, team, bot, secret = backend.default_webhook.split("/")
    return Fake(slack_app(backend), None,
                {"team": team, "bot": bot, "secret": secret, "name": "#incidents"},
                slack_error, backend.default_webhook)


def statuspage(clock: ManualClock) -> Fake:
    backend = StatuspageBackend(clock, api_key="drill_statuspage_key")
    page_id = backend.default_page_id
    component = backend.list_components(page_id)[0]
    incident = backend.create_incident(page_id, "Contacts page errors",
                                       component_ids=[component.id])
    known = {"page_id": page_id, "component_id": component.id, "incident_id": incident.id}
    return Fake(statuspage_app(backend), {"Authorization": "OAuth drill_statuspage_key"},
                known, statuspage_error, f"/v1/pages/{page_id}/incidents")


def pagerduty(clock: ManualClock) -> Fake:
    backend = PagerDutyBackend(clock)
    dedup_key = backend.enqueue({"routing_key": DEFAULT_ROUTING_KEY, "event_action": "trigger",
                                 "payload": {"summary": "errors up", "source": "drill",
                                             "severity": "critical"}})
    # The Events API takes no header; the REST API's read side takes its key.
    return Fake(pagerduty_app(backend), {"Authorization": f"Token token={REST_API_KEY}"},
                {"dedup_key": dedup_key}, pagerduty_error, "/v2/enqueue")


def docker_error(status: int, ctype: str, content: bytes) -> bool:
    body = _json(content)
    return _has(body, "message") and isinstance(body["message"], str)


def docker(clock: ManualClock) -> Fake:
    backend = DockerBackend(clock)
    web = backend.seed_service("logos-vision-crm:current")
    known = {"version": "v1.43", "ref": web.id, "name": "logos-vision-crm:current"}
    return Fake(docker_app(backend), None, known, docker_error, "/containers/create")


def contacts(clock: ManualClock) -> Fake:
    build = LiveBuild("dpl_2", "2.0.0", True, FlagEnv("true", "30"))
    backend = ContactsBackend(clock, FlagMode.PERCENTAGE, lambda: build, lambda _: None,
                              ["u_internal"])
    return Fake(contacts_app(backend), None, {}, contacts_error)


FAKES: dict[str, Callable[[ManualClock], Fake]] = {
    "vercel": vercel, "netlify": netlify, "posthog": posthog, "sentry": sentry,
    "pulse": pulse, "slack": slack, "statuspage": statuspage, "pagerduty": pagerduty,
    "contacts": contacts, "docker": docker}
# Fakes whose callers authenticate with a header; the others carry their secret in the
# body (PagerDuty's routing key) or the URL (Slack's webhook), or have none (Contacts,
# Docker's Engine on its local socket).
WITH_CREDENTIALS = ["vercel", "netlify", "posthog", "sentry", "pulse", "statuspage"]


# --- what the fuzz stands on --------------------------------------------------------------

def call(fake: Fake, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to the fake's app in-process, with its credentials."""
    client = InProcessClient(fake.app, "http://fake.test", headers=fake.credentials)
    return client.request(method, url, **kwargs)


@pytest.mark.parametrize("name", list(FAKES))
def test_every_fake_serves_an_openapi_with_one_operation_id_per_operation(name: str) -> None:
    """The schema the fuzz loads is served, and names each operation once (FastAPI gives a
    route serving two methods one id for both, which also breaks generated clients)."""
    fake = FAKES[name](ManualClock())
    response = call(fake, "GET", SCHEMA_PATH)
    assert response.status_code == 200
    ids = [op["operationId"] for item in response.json()["paths"].values()
           for op in item.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", list(FAKES))
def test_every_operation_declares_its_path_parameters_and_error_responses(name: str) -> None:
    """Each ``{param}`` of an operation's path is a declared path parameter (else a
    schema-driven client cannot build its URL), and 4XX/5XX responses are documented."""
    spec = call(FAKES[name](ManualClock()), "GET", SCHEMA_PATH).json()
    missing = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            if set(re.findall(r"{([^}]+)}", path)) - declared or \
                    not {"4XX", "5XX"} <= set(op.get("responses", {})):
                missing.append(f"{method.upper()} {path}")
    assert not missing, missing


@pytest.mark.parametrize("name", [n for n in FAKES if n != "contacts"])  # contacts: no bodies
@pytest.mark.parametrize(("encoding", "status"), [("gzip", 400), ("x-unknown", 415)])
def test_a_body_that_does_not_decode_is_refused_in_the_vendor_error_shape(
        name: str, encoding: str, status: int) -> None:
    """A body whose Content-Encoding lies (400) or is unknown (415) gets the vendor's
    error body, not the shared decoder's generic one."""
    fake = FAKES[name](ManualClock())
    assert fake.body_path is not None
    response = call(fake, "POST", fake.body_path, content=b'{"not": "compressed"}',
                    headers={"Content-Encoding": encoding,
                             "Content-Type": "application/json"})
    assert response.status_code == status
    assert fake.is_vendor_error(status, response.headers.get("content-type", ""),
                                response.content), response.text


# --- the fuzz ----------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Hypothesis's storage (unicode tables, constants cache) in a temp dir rather than
    ``.hypothesis/`` in the working directory, the repository."""
    home = tmp_path_factory.mktemp("hypothesis")
    set_hypothesis_home_dir(home)
    yield home
    set_hypothesis_home_dir(None)


def with_fuzzed_bodies(raw: dict[str, Any]) -> dict[str, Any]:
    """The schema with an any-body (and Content-Encoding) on body-less POST/PUT/PATCH."""
    raw = copy.deepcopy(raw)
    for item in raw.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("post", "put", "patch") and "requestBody" not in operation:
                operation["requestBody"] = ANY_BODY
                operation.setdefault("parameters", []).append(CONTENT_ENCODING)
    return raw


def load_schema(app: Any) -> Any:
    """The fake's OpenAPI as served at ``/_fake/openapi.json``, bodies added to fuzz."""
    served = schemathesis.openapi.from_asgi(SCHEMA_PATH, app)
    schema = schemathesis.openapi.from_dict(with_fuzzed_bodies(served.raw_schema))
    schema.app = app
    return schema


def case_strategy(operation: Any, known: dict[str, str]) -> Any:
    """Valid and invalid cases, path ids random or seeded."""
    names = [p.name for p in operation.path_parameters]
    seeded = {n: known[n] for n in names if n in known}
    strategies = [operation.as_strategy(generation_mode=mode)
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if seeded:
        strategies.append(operation.as_strategy(path_parameters=seeded))
    return st.one_of(strategies)


def verdict(fake: Fake, case: Any, headers: dict[str, str],
            reached: Callable[[], None] = lambda: None) -> str | None:
    """What is wrong with the fake's answer to ``case``, or None when nothing is;
    ``reached()`` is called when the answer is not a 404."""
    try:
        response = case.call(headers=headers)
    except Exception:  # an exception escaping the app: a 500 to a real client
        return f"{case.method} {case.formatted_path} raised\n{traceback.format_exc()}"
    status = response.status_code
    if status != 404:
        reached()
    ctype = response.headers.get("content-type", [""])[0]
    seen = f"{case.method} {case.formatted_path} → {status} {response.content[:300]!r}"
    if status >= 500:
        problem = "server error"
    elif status >= 400 and case.method.upper() != "HEAD" \
            and not fake.is_vendor_error(status, ctype, response.content):
        # (a HEAD answer has no body, RFC 9110 §9.3.2: only its status can be checked)
        problem = "not the vendor's error shape"
    else:
        return None
    return f"{problem}: {seen}\n{case.as_curl_command(headers=headers)}"


def fuzz_operation(fake: Fake, operation: Any, headers: dict[str, str],
                   max_examples: int, past_404: set[str]) -> str | None:
    """Run the examples for one operation: the (shrunk) problem found, or None; the
    operation's label joins ``past_404`` when an answer was not a 404."""
    problems: list[str] = []

    @fuzz_settings(max_examples)
    @given(case=case_strategy(operation, fake.known))
    def run(case: Any) -> None:
        problem = verdict(fake, case, headers, lambda: past_404.add(operation.label))
        if problem is not None:
            problems.append(problem)
            raise AssertionError(problem)

    try:
        run()
    except AssertionError:
        return problems[-1]
    return None


def fuzz(name: str, authenticated: bool, max_examples: int) -> list[str]:
    """Fuzz every operation of fake ``name``; one problem per operation that has any.

    Every operation of the schema must load (its path parameters declared: an operation
    schemathesis cannot build a URL for is a problem too); prints how many operations
    were fuzzed, of how many, and how many answered past a 404 at least once."""
    fake = FAKES[name](ManualClock())
    headers = (fake.credentials or {}) if authenticated else {}
    problems, fuzzed, total = [], 0, 0
    past_404: set[str] = set()
    for result in load_schema(fake.app).get_all_operations():
        total += 1
        try:
            operation = result.ok()
        except Exception as exc:  # schemathesis could not build this operation
            problems.append(f"operation not reachable by the fuzz: {exc}")
            continue
        if (operation.method.upper(), operation.path) in SKIPPED:
            total -= 1
            continue
        fuzzed += 1
        problem = fuzz_operation(fake, operation, headers, max_examples, past_404)
        if problem is not None:
            problems.append(f"[{operation.label}] {problem}")
    print(f"\nfuzz {name} ({'with' if authenticated else 'without'} credentials): "
          f"{fuzzed}/{total} operations reached, {len(past_404)} answered past a 404")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("name", WITH_CREDENTIALS)
def test_fuzzed_requests_with_credentials_get_no_5xx_and_only_vendor_errors(name: str) -> None:
    """With valid credentials, every fuzzed request to every operation is answered
    without a 5xx, and every 4xx is in the vendor's error shape."""
    problems = fuzz(name, authenticated=True, max_examples=MAX_EXAMPLES)
    assert not problems, f"{name}: {len(problems)} operation(s) misbehave\n\n" + \
        "\n\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAKES))
def test_fuzzed_requests_without_credentials_get_no_5xx_and_only_vendor_errors(
        name: str) -> None:
    """Without credentials, every fuzzed request is still answered without a 5xx, and
    every rejection is in the vendor's error shape."""
    examples = MAX_EXAMPLES_REJECTED if name in WITH_CREDENTIALS else MAX_EXAMPLES
    problems = fuzz(name, authenticated=False, max_examples=examples)
    assert not problems, f"{name}: {len(problems)} operation(s) misbehave\n\n" + \
        "\n\n".join(problems)
