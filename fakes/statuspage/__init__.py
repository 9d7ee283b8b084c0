"""The fake Atlassian Statuspage: pages, components, incidents and their public timeline.

``backend.StatuspageBackend`` is the state machine (``lifecycle`` its vocabularies and
the incident transition table, ``models`` its records); ``router.build_app`` puts
Statuspage's REST API v1 (``Authorization: OAuth <key>``) in front of it.
"""
