"""The JSON bodies Statuspage's API answers with, built from the backend's records.

Field names follow Statuspage's v1 API; times go out as ISO-8601 UTC. Incident updates
are listed newest first, as Statuspage lists them.
"""

from __future__ import annotations

from typing import Any

from fakes.common.clock import to_iso
from fakes.statuspage.backend import StatuspageBackend
from fakes.statuspage.models import Component, Incident, IncidentUpdate, Page


def page(backend: StatuspageBackend, p: Page) -> dict[str, Any]:
    iso = _iso(backend)
    return {"id": p.id, "name": p.name, "subdomain": p.subdomain, "domain": p.domain,
            "url": p.url, "created_at": iso(p.created), "updated_at": iso(p.updated),
            "page_description": None, "headline": None, "branding": "basic",
            "time_zone": "Etc/UTC", "allow_page_subscribers": True,
            "allow_incident_subscribers": True, "allow_email_subscribers": True,
            "hidden_from_search": False}


def component(backend: StatuspageBackend, c: Component) -> dict[str, Any]:
    iso = _iso(backend)
    return {"id": c.id, "page_id": c.page_id, "group_id": None, "group": False,
            "name": c.name, "description": c.description, "position": c.position,
            "status": c.status.value, "showcase": True, "only_show_if_degraded": False,
            "automation_email": f"component+{c.id}@notifications.statuspage.io",
            "start_date": iso(c.created)[:10], "created_at": iso(c.created),
            "updated_at": iso(c.updated)}


def incident_update(backend: StatuspageBackend, u: IncidentUpdate) -> dict[str, Any]:
    iso = _iso(backend)
    return {"id": u.id, "incident_id": u.incident_id, "status": u.status.value,
            "body": u.body, "created_at": iso(u.at), "updated_at": iso(u.at),
            "display_at": iso(u.at), "deliver_notifications": u.deliver_notifications,
            "affected_components": [
                {"code": cid, "name": backend.components[cid].name
                 if cid in backend.components else cid,
                 "old_status": old.value, "new_status": new.value}
                for cid, (old, new) in u.affected_components.items()],
            "custom_tweet": None, "tweet_id": None, "twitter_updated_at": None,
            "wants_twitter_update": False}


def incident(backend: StatuspageBackend, i: Incident) -> dict[str, Any]:
    iso = _iso(backend)
    return {
        "id": i.id, "page_id": i.page_id, "name": i.name, "status": i.status.value,
        "impact": i.impact.value,
        "impact_override": i.impact_override.value if i.impact_override else None,
        "shortlink": i.shortlink, "created_at": iso(i.created), "updated_at": iso(i.updated),
        "started_at": iso(i.created), "monitoring_at": iso(i.monitoring_at),
        "resolved_at": iso(i.resolved_at), "scheduled_for": None, "scheduled_until": None,
        "scheduled_remind_prior": False, "scheduled_auto_in_progress": False,
        "scheduled_auto_completed": False, "postmortem_body": None,
        "postmortem_published_at": None, "metadata": {}, "reminder_intervals": None,
        "incident_updates": [incident_update(backend, u) for u in reversed(i.updates)],
        "components": [component(backend, backend.components[c])
                       for c in i.component_ids if c in backend.components],
    }


def _iso(backend: StatuspageBackend) -> Any:
    def iso(t: float | None) -> str | None:
        return None if t is None else to_iso(backend.clock, t)

    return iso
