"""The fake Vercel: deployments built on a virtual clock, env vars baked at build time,
instant rollback and promote of the production alias, and the REST API the vercel CLI
and @vercel/sdk call.

``backend.VercelBackend`` is the state machine (``lifecycle`` its transition tables,
``models`` its records, ``directory`` how they are found, ``env`` the env var rules,
``alias`` the production alias); ``router.build_app`` puts Vercel's HTTP API in front
of it.
"""
