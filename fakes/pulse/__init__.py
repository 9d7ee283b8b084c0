"""The fake Pulse CRM: a seeded directory of contacts that changes over virtual time,
the REST API the Contacts app's Pulse sync calls (keyset-paged ``updated_since``
listings, API keys, per-key token buckets), and failure modes a drill injects.

``backend.PulseBackend`` is the state machine (``directory`` the data, ``faults`` the
failure modes, ``paging`` the cursor, ``ratelimit`` the buckets); ``router.build_app``
puts Pulse's HTTP API, documented in ``router``, in front of it.
"""
