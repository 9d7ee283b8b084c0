"""The fake PostHog: feature flags (remote and local evaluation), event capture.

``backend.PostHogBackend`` holds the state on an injected clock; ``router.build_app``
serves it over PostHog's own HTTP API; ``evaluation`` has the bucketing hash and the
flag matching, scalar and vectorized, that the simulation shares.
"""

from fakes.posthog.backend import CapturedEvent, FeatureFlag, FlagResult, PostHogBackend
from fakes.posthog.evaluation import (
    FlagMatch,
    match_flag,
    posthog_hash,
    posthog_hashes,
    rollout_mask,
)

__all__ = [
    "CapturedEvent",
    "FeatureFlag",
    "FlagMatch",
    "FlagResult",
    "PostHogBackend",
    "match_flag",
    "posthog_hash",
    "posthog_hashes",
    "rollout_mask",
]
