"""The fake Statuspage's state: pages, their components, incidents and incident updates.

A pure state machine over an injected clock; no HTTP here (``router.py`` is the HTTP
face, ``payloads.py`` the JSON). Incident statuses follow the transition table in
``lifecycle.py``; every create or update that sets a status or a body appends an
incident update stamped with the virtual time, so a drill reads the public timeline
(investigating → identified → monitoring → resolved) with exact times.

``reset`` seeds the runbook's page (status.logosvision.com) with its components; the
page id is ``default_page_id``. Component statuses given with an incident
(``components: {id: status}``) change the components themselves, as on Statuspage;
resolving an incident does not set them back to operational unless asked to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from fakes.common.clock import Clock
from fakes.statuspage.errors import NotFound, Unauthorized, Unprocessable
from fakes.statuspage.lifecycle import (
    ComponentStatus,
    Impact,
    IncidentStatus,
    is_open,
    next_status,
    parse,
    worst_impact,
)
from fakes.statuspage.models import Component, Incident, IncidentUpdate, Page, digest

DEFAULT_PAGE = {"name": "LogosVision", "subdomain": "logosvision",
                "domain": "status.logosvision.com"}
DEFAULT_COMPONENTS = ("Contacts", "Web App", "API", "Pulse Sync")


class StatuspageBackend:
    """One Statuspage account (one API key) holding pages, components and incidents."""

    def __init__(self, clock: Clock, api_key: str = "drill_statuspage_key") -> None:
        self.clock = clock
        self.api_key = api_key
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything, then seed the default page; ids start over."""
        self._counters: Counter[str] = Counter()
        self.pages: dict[str, Page] = {}
        self.components: dict[str, Component] = {}
        self.incidents: dict[str, Incident] = {}
        page = self.create_page(**DEFAULT_PAGE, components=DEFAULT_COMPONENTS)
        self.default_page_id = page.id

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state``."""
        return {
            "now": self.clock.now(),
            "default_page_id": self.default_page_id,
            "pages": [asdict(p) for p in self.pages.values()],
            "components": [asdict(c) for c in self.components.values()],
            "incidents": [asdict(i) for i in self.incidents.values()],
        }

    def authenticate(self, api_key: str | None) -> None:
        """Raises Unauthorized unless ``api_key`` is the account's key."""
        if api_key != self.api_key:
            raise Unauthorized()

    # ---- pages and components ------------------------------------------------------

    def create_page(self, name: str, subdomain: str, domain: str | None = None,
                    components: Iterable[str] = ()) -> Page:
        """A new page with operational ``components`` (names), in that order."""
        now = self.clock.now()
        page = Page(self._new_id("page"), name, subdomain, domain, now, now)
        self.pages[page.id] = page
        for component in components:
            self.create_component(page.id, component)
        return page

    def list_pages(self) -> list[Page]:
        return list(self.pages.values())

    def get_page(self, page_id: str) -> Page:
        """The page; raises NotFound."""
        page = self.pages.get(page_id)
        if page is None:
            raise NotFound()
        return page

    def create_component(self, page_id: str, name: str, status: str = "operational",
                         description: str | None = None) -> Component:
        """A component at the end of the page; raises NotFound or Unprocessable."""
        page = self.get_page(page_id)
        _check_name(name)
        now = self.clock.now()
        component = Component(self._new_id("component"), page.id, name,
                              parse(ComponentStatus, status, "status"),
                              len(page.component_ids) + 1, now, now, description)
        self.components[component.id] = component
        page.component_ids.append(component.id)
        page.updated = now
        return component

    def list_components(self, page_id: str) -> list[Component]:
        """The page's components by position; raises NotFound."""
        return [self.components[c] for c in self.get_page(page_id).component_ids]

    def get_component(self, page_id: str, component_id: str) -> Component:
        """A component of the page; raises NotFound."""
        component = self.components.get(component_id)
        if component is None or component.page_id != self.get_page(page_id).id:
            raise NotFound()
        return component

    def update_component(self, page_id: str, component_id: str, *,
                         status: str | None = None, name: str | None = None,
                         description: str | None = None) -> Component:
        """Change a component's status, name or description; raises NotFound, Unprocessable."""
        component = self.get_component(page_id, component_id)
        new = component.status if status is None else parse(ComponentStatus, status, "status")
        if name is not None:
            _check_name(name)
        component.status = new
        component.name = component.name if name is None else name
        if description is not None:
            component.description = description
        component.updated = self.clock.now()
        return component

    # ---- incidents -----------------------------------------------------------------

    def create_incident(self, page_id: str, name: str, *, status: str = "investigating",
                        impact_override: str | None = None, body: str | None = None,
                        component_ids: Iterable[str] | None = None,
                        components: Mapping[str, str] | None = None,
                        deliver_notifications: bool = True) -> Incident:
        """Open an incident and post its first update.

        ``components`` sets those components' statuses; they and ``component_ids`` are
        the affected components. Raises NotFound (page) or Unprocessable (a field).
        """
        page = self.get_page(page_id)
        _check_name(name)
        first = parse(IncidentStatus, status, "status")
        override = _impact(impact_override)
        _check_body(body)
        statuses = self._component_statuses(page, components)
        affected = self._component_ids(page, component_ids or [])
        now = self.clock.now()
        inc_id = self._new_id("incident")
        incident = Incident(inc_id, page.id, name, first, override,
                            f"https://stspg.io/{digest('short' + inc_id, 5)}", now, now)
        incident.component_ids = _union(affected, statuses)
        self.incidents[incident.id] = incident
        page.incident_ids.append(incident.id)
        self._post(incident, first, body, statuses, deliver_notifications)
        return incident

    def update_incident(self, page_id: str, incident_id: str, *, status: str | None = None,
                        body: str | None = None, name: str | None = None,
                        impact_override: str | None = None,
                        component_ids: Iterable[str] | None = None,
                        components: Mapping[str, str] | None = None,
                        deliver_notifications: bool = True) -> Incident:
        """Change an incident; a status or a body posts a new incident update.

        ``component_ids`` replaces the affected list; ``components`` adds to it and sets
        their statuses. Raises NotFound, or Unprocessable for a bad field or a status the
        transition table forbids (anything but resolved once resolved).
        """
        incident = self.get_incident(page_id, incident_id)
        page = self.pages[incident.page_id]
        # Check every field before changing anything: a rejected update leaves no trace.
        new = incident.status if status is None else next_status(
            incident.status, parse(IncidentStatus, status, "status"))
        if name is not None:
            _check_name(name)
        override = _impact(impact_override)
        _check_body(body)
        statuses = self._component_statuses(page, components)
        affected = incident.component_ids if component_ids is None \
            else self._component_ids(page, component_ids)
        incident.name = incident.name if name is None else name
        incident.impact_override = override or incident.impact_override
        incident.component_ids = _union(affected, statuses)
        if status is not None or body is not None or statuses:
            self._post(incident, new, body, statuses, deliver_notifications)
        else:
            incident.impact = self._impact_of(incident)
            incident.updated = self.clock.now()
        return incident

    def get_incident(self, page_id: str, incident_id: str) -> Incident:
        """An incident of the page; raises NotFound."""
        incident = self.incidents.get(incident_id)
        if incident is None or incident.page_id != self.get_page(page_id).id:
            raise NotFound()
        return incident

    def delete_incident(self, page_id: str, incident_id: str) -> Incident:
        """Remove an incident and return it; raises NotFound."""
        incident = self.get_incident(page_id, incident_id)
        del self.incidents[incident.id]
        self.pages[incident.page_id].incident_ids.remove(incident.id)
        return incident

    def list_incidents(self, page_id: str, q: str | None = None, limit: int = 100,
                       page: int = 1) -> list[Incident]:
        """The page's incidents, newest first; ``q`` searches names and update bodies."""
        found = [i for i in self._newest_first(page_id) if q is None or _matches(i, q)]
        return _paginate(found, page, limit)

    def list_unresolved_incidents(self, page_id: str, page: int = 1,
                                  per_page: int = 100) -> list[Incident]:
        """The page's incidents that are not resolved, newest first."""
        return _paginate([i for i in self._newest_first(page_id) if is_open(i.status)],
                         page, per_page)

    def status_indicator(self, page_id: str) -> Impact:
        """The page's headline: the worst impact among its unresolved incidents."""
        impacts = [i.impact for i in self.list_unresolved_incidents(page_id, per_page=10**9)]
        order = list(Impact)
        return max(impacts, key=order.index, default=Impact.NONE)

    # ---- internals -------------------------------------------------------------------

    def _post(self, incident: Incident, status: IncidentStatus, body: str | None,
              statuses: dict[str, ComponentStatus], deliver: bool) -> None:
        """Apply component statuses and append an incident update at the virtual now."""
        now = self.clock.now()
        changes = {cid: (self.components[cid].status, new) for cid, new in statuses.items()}
        for cid, new in statuses.items():
            self.components[cid].status = new
            self.components[cid].updated = now
        incident.updates.append(IncidentUpdate(
            self._new_id("update"), incident.id, status, body or "", now, bool(deliver),
            changes))
        if status is IncidentStatus.MONITORING and incident.monitoring_at is None:
            incident.monitoring_at = now
        if status is IncidentStatus.RESOLVED and incident.resolved_at is None:
            incident.resolved_at = now
        incident.status = status
        incident.impact = self._impact_of(incident)
        incident.updated = now

    def _impact_of(self, incident: Incident) -> Impact:
        if incident.impact_override is not None:
            return incident.impact_override
        return worst_impact(self.components[c].status for c in incident.component_ids)

    def _component_statuses(self, page: Page,
                            components: Mapping[str, str] | None) -> dict[str, ComponentStatus]:
        if components is None:
            return {}
        if not isinstance(components, Mapping):
            raise Unprocessable("components must be an object of component id → status")
        ids = self._component_ids(page, components.keys())
        return {cid: parse(ComponentStatus, components[cid], f"components.{cid}")
                for cid in ids}

    def _component_ids(self, page: Page, ids: Iterable[str]) -> list[str]:
        if isinstance(ids, str) or not isinstance(ids, Iterable):
            raise Unprocessable("component_ids must be an array of component ids")
        ids = list(ids)
        unknown = [c for c in ids if c not in page.component_ids]
        if unknown:
            raise Unprocessable(f"Component(s) not found on page {page.id}: "
                                f"{', '.join(map(str, unknown))}")
        return list(dict.fromkeys(ids))

    def _newest_first(self, page_id: str) -> list[Incident]:
        ids = self.get_page(page_id).incident_ids
        order = {iid: n for n, iid in enumerate(ids)}
        return sorted((self.incidents[i] for i in ids),
                      key=lambda i: (i.created, order[i.id]), reverse=True)

    def _new_id(self, kind: str) -> str:
        # Counter-derived, never random: the same run mints the same ids.
        self._counters[kind] += 1
        return digest(f"{kind}{self._counters[kind]}")


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name.strip():
        raise Unprocessable("name can't be blank")


def _check_body(body: object) -> None:
    if body is not None and not isinstance(body, str):
        raise Unprocessable("body must be a string")


def _impact(value: str | None) -> Impact | None:
    return None if value is None else parse(Impact, value, "impact_override")


def _union(ids: list[str], more: Mapping[str, object]) -> list[str]:
    return list(dict.fromkeys([*ids, *more]))


def _matches(incident: Incident, q: str) -> bool:
    needle = q.lower()
    return needle in incident.name.lower() or any(needle in u.body.lower()
                                                   for u in incident.updates)


def _paginate(items: list[Incident], page: int, per_page: int) -> list[Incident]:
    size = max(1, int(per_page))
    start = (max(1, int(page)) - 1) * size
    return items[start:start + size]
