"""Fake Netlify as the runbook's world has it: a site like the Vercel project, with
previous and current production deploys (the current one built with the ``VITE_*``
variables)."""

from __future__ import annotations

from fakes.common.builds import seconds
from fakes.common.descriptor import DAY, PROJECT_NAME, RunbookScenario, Start, Timings, Vendor
from fakes.netlify.backend import NetlifyBackend
from fakes.vercel.vendor import release_meta
from rollout.release.flags import INTERNAL_ENV_FLAG, ROLLOUT_ENV

NETLIFY_TOKEN = "drill_netlify_token"


def create(start: Start) -> NetlifyBackend:
    scenario, w = start.scenario, start.scenario.world
    build_rng = start.streams("netlify.build_time")
    queue_rng = start.streams("netlify.queue_time")
    publish_rng = start.streams("netlify.publish_propagation")
    netlify = NetlifyBackend(start.clock, token=NETLIFY_TOKEN,
                             build_time=lambda: w.build_time.sample(build_rng),
                             queue_time=lambda: w.queue_time.sample(queue_rng),
                             publish_propagation=lambda: w.alias_propagation.sample(publish_rng))
    site = netlify.create_site(PROJECT_NAME)
    netlify.create_deploy(site.id, ready_at=-7 * DAY, commit_ref="v" + w.previous.version,
                          meta=release_meta(w.previous.version, w.previous.has_redesign))
    env = scenario.flag.env
    values = {INTERNAL_ENV_FLAG: env.VITE_FEATURE_CONTACTS_REDESIGN,
              ROLLOUT_ENV: env.VITE_ROLLOUT_PERCENTAGE}
    netlify.create_env_vars("drill", [
        {"key": k, "scopes": ["builds"], "values": [{"value": v, "context": "all"}]}
        for k, v in values.items() if v is not None], site_id=site.id)
    netlify.create_deploy(site.id, ready_at=-1 * DAY, commit_ref="v" + w.current.version,
                          meta=release_meta(w.current.version, w.current.has_redesign))
    return netlify


def site_id(netlify: NetlifyBackend) -> str:
    """The id of the app's site (a read of the backend's state: no clock advance)."""
    return next(s.id for s in netlify.directory.sites.values() if s.name == PROJECT_NAME)


def env(netlify: NetlifyBackend, url: str) -> dict[str, str]:
    return {"NETLIFY_API_URL": url, "NETLIFY_AUTH_TOKEN": netlify.token,
            "NETLIFY_SITE_ID": site_id(netlify)}


def timings(netlify: NetlifyBackend) -> Timings:
    return {"publish_propagation": (lambda: seconds(netlify.publish_propagation),
                                    lambda x: setattr(netlify, "publish_propagation", x))}


def on_netlify(scenario: RunbookScenario) -> bool:
    return scenario.world.platform == "netlify"


NETLIFY = Vendor("netlify", create, env, in_drill=on_netlify, api_faults=True,
                 timings=timings)
