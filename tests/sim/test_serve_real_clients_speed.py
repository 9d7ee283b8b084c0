"""`drill serve --speed 60` with the vendors' own clients: the alert still fires in time.

Real posthog-python (local evaluation of ``contacts_redesign`` from the fake's
definitions) decides which of a stream of users get the new page; each of those page
views crashes and real sentry-sdk reports it to the fake Sentry, stamped by the SDK's own
(wall) clock. On a clock 60 times faster than the wall the scenario's metric alert must
still open its incident within the rule's detection bound (``SentryPipeline.alert_bound``
plus a tick, as a drill's ``detection_bound_s``), counted in virtual seconds from the first
error sent, once the fake has run past its first window (12 virtual minutes: a fake that
read the SDK's wall-clock timestamps as virtual seconds would put every event minutes
behind the window, and the alert would never fire; in the first window it would).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import posthog
import pytest
import sentry_sdk

from sim.scenario.loader import load_default
from sim.world.monitoring import SentryPipeline
from tests.sim.test_serve_live import SPEED, start_serve

USERS_PER_BATCH = 40
BATCH_EVERY_S = 0.05  # wall: 3 virtual seconds
WARM_UP_S = 12.0  # wall: 12 virtual minutes, past the rule's 5-minute window


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    serve = start_serve(tmp_path)  # drill serve --speed 60, as test_serve_live starts it
    try:
        yield serve.env
    finally:
        serve.proc.kill()
        serve.proc.communicate()


def _incidents(env: dict[str, str]) -> list[dict[str, object]]:
    r = httpx.get(f"{env['SENTRY_URL']}/api/0/organizations/{env['SENTRY_ORG']}/incidents/",
                  headers={"Authorization": f"Bearer {env['SENTRY_AUTH_TOKEN']}"}, timeout=10)
    r.raise_for_status()
    return list(r.json())


def test_real_sentry_sdk_and_posthog_users_fire_the_alert_within_its_bound_at_speed_60(
        served: dict[str, str]) -> None:
    env = served
    scenario = load_default()
    bound_s = SentryPipeline(None, scenario.monitoring).alert_bound() + scenario.tick
    flags = posthog.Posthog(env["POSTHOG_PROJECT_API_KEY"], host=env["POSTHOG_HOST"],
                            secret_key=env["POSTHOG_PERSONAL_API_KEY"], send=False)
    client = sentry_sdk.Client(dsn=env["SENTRY_DSN"], release=scenario.world.current.version,
                               environment="production", default_integrations=False)
    time.sleep(WARM_UP_S)  # the rehearsal starts well past the fake's first alert window
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        fired_after, first_error = _run_users(env, scope, client, flags, bound_s)
    assert first_error is not None, "posthog-python gave nobody the new page"
    assert fired_after is not None, f"no alert within {2 * bound_s:.0f} virtual seconds"
    assert fired_after <= bound_s + BATCH_EVERY_S * SPEED * 4, (fired_after, bound_s)


def _run_users(env: dict[str, str], scope: sentry_sdk.Scope, client: sentry_sdk.Client,
               flags: posthog.Posthog, bound_s: float) -> tuple[float | None, float | None]:
    """Users load the page until the alert fires: (virtual s from the first error to the
    alert or None, the first error's wall time or None)."""
    scenario = load_default()
    first_error, fired_after, user = None, None, 0
    try:
        flags.load_feature_flags()
        deadline = time.monotonic() + 2 * bound_s / SPEED + 10
        while time.monotonic() < deadline and fired_after is None:
            for _ in range(USERS_PER_BATCH):
                user += 1
                local = flags.evaluate_flags(f"usr_{user:012x}", only_evaluate_locally=True)
                if local.get_flag(scenario.flag.posthog.key, send_feature_flag_events=False):
                    first_error = first_error or time.monotonic()
                    _crash(scope, RuntimeError("ContactsPageNew crashed"))
            client.flush(timeout=2)
            time.sleep(BATCH_EVERY_S)
            if first_error is not None and _incidents(env):
                fired_after = (time.monotonic() - first_error) * SPEED
    finally:
        flags.shutdown()
        client.close(timeout=5)
    return fired_after, first_error


def _crash(scope: sentry_sdk.Scope, exc: Exception) -> None:
    """A page view of the new page throws; the SDK reports it (with its traceback)."""
    try:
        raise exc
    except RuntimeError as raised:
        scope.capture_exception(raised)
