"""The fake Netlify: deploys built on a virtual clock, account-scoped env vars baked at
build start, publishing with restore, rollback and locked deploys, and the REST API
(``/api/v1``) that netlify-cli and @netlify/api call.

``backend.NetlifyBackend`` is the state machine (``lifecycle`` its transition tables,
``models`` its records, ``directory`` how they are found, ``builds`` a deploy's build
steps, ``publishing`` what a site serves, ``env`` its env var bookkeeping);
``router.build_app`` puts Netlify's HTTP API in front of it.
"""
