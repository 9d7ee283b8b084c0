"""Fake PostHog as the runbook's world has it: the ``contacts_redesign`` flag as the
scenario defines it when the drill starts."""

from __future__ import annotations

from fakes.common.descriptor import Start, Vendor
from fakes.posthog.backend import PostHogBackend


def create(start: Start) -> PostHogBackend:
    spec = start.scenario.flag.posthog
    posthog = PostHogBackend(start.clock)
    posthog.create_feature_flag(spec.key, "Contacts redesign", spec.active,
                                {"groups": [{"properties": [],
                                             "rollout_percentage": spec.rollout_percentage}]})
    return posthog


def env(ph: PostHogBackend, url: str) -> dict[str, str]:
    return {"POSTHOG_HOST": url, "POSTHOG_PROJECT_API_KEY": ph.project_api_key,
            "POSTHOG_PERSONAL_API_KEY": ph.personal_api_key}


POSTHOG = Vendor("posthog", create, env, api_faults=True)
