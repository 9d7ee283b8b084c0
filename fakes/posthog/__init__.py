"""The fake PostHog: feature flags (remote and local evaluation), event capture.

``backend.PostHogBackend`` holds the state on an injected clock (``models`` its
records); ``router.build_app`` serves it over PostHog's own HTTP API; ``evaluation``
has the bucketing hash and the flag matching, scalar and vectorized, that the
simulation shares.
"""
