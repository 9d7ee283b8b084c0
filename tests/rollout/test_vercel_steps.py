"""rollout.deploy.vercel: the Vercel lookups and polls shared by the rollback procedures
and the rollout, against a scripted Vercel (``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rollout.clients.vercel import VercelAPI
from rollout.deploy.vercel import production_env, wait_alias, wait_ready
from rollout.steps import RollbackFailed, Wait


def scripted(answers: Callable[[httpx.Request], Any]) -> VercelAPI:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answers(request)))
    return VercelAPI(httpx.Client(transport=transport), "http://vercel.test", "token")


def run(procedure: Any) -> tuple[list[Any], Any]:
    steps = []
    try:
        while True:
            steps.append(next(procedure))
    except StopIteration as done:
        return steps, done.value


def test_production_env_keeps_only_production_variables() -> None:
    api = scripted(lambda _: {"envs": [
        {"id": "env_1", "key": "A", "value": "1", "target": ["production", "preview"]},
        {"id": "env_2", "key": "B", "value": "2", "target": ["preview"]}]})
    assert production_env(api, "prj") == {"A": ("env_1", "1")}


def test_wait_ready_waits_while_building_and_returns_the_ready_deployment() -> None:
    states = iter(["BUILDING", "READY"])
    api = scripted(lambda _: {"id": "dpl_1", "readyState": next(states)})
    steps, deployment = run(wait_ready(api, "dpl_1", poll=5.0))
    assert [type(s) for s in steps] == [Wait] and deployment["readyState"] == "READY"


def test_wait_ready_fails_the_build_step_when_the_build_errors() -> None:
    api = scripted(lambda _: {"id": "dpl_1", "readyState": "ERROR"})
    with pytest.raises(RollbackFailed) as failed:
        run(wait_ready(api, "dpl_1", poll=5.0))
    assert failed.value.where == "vercel build"


@pytest.mark.parametrize("step", ["vercel alias", "vercel rollback"])
def test_a_failed_alias_job_is_reported_under_the_callers_step_name(step: str) -> None:
    api = scripted(lambda _: {"lastAliasRequest": {"jobStatus": "failed"}})
    with pytest.raises(RollbackFailed) as failed:
        run(wait_alias(api, "prj", "dpl_1", poll=1.0, step=step))
    assert failed.value.where == step
