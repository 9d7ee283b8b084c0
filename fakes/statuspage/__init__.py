"""The fake Atlassian Statuspage: pages, components, incidents and their public timeline.

``backend.StatuspageBackend`` is the state machine (``lifecycle`` its vocabularies and
the incident transition table, ``models`` its records); ``router.build_app`` puts
Statuspage's REST API v1 (``Authorization: OAuth <key>``) in front of it.
"""

from fakes.statuspage.backend import StatuspageBackend
from fakes.statuspage.lifecycle import ComponentStatus, Impact, IncidentStatus
from fakes.statuspage.models import Component, Incident, IncidentUpdate, Page
from fakes.statuspage.router import build_app, build_router

__all__ = ["Component", "ComponentStatus", "Impact", "Incident", "IncidentStatus",
           "IncidentUpdate", "Page", "StatuspageBackend", "build_app", "build_router"]
