"""The fake Sentry: one organization with one project, driven by an injected clock.

Data plane: ``record_session_aggregates`` and ``record_error_events`` add counts per
(release, environment): by Unix second for the alert rules (``series.Series``), and
sessions also by minute for the sessions API (the simulation calls them directly, once
per tick); ``ingest_envelope`` parses what a real SDK posts and feeds the same methods.
Queries: ``sessions_stats`` (release health), ``list_issues``; releases and deploys
(``release_api.ReleaseAPI``, mixed in).
Alerting: metric alert rules (their aggregate computed by ``measures``) evaluated by
``evaluate_alert_rules``, a periodic job the host runs every ``evaluation_interval``
seconds (``periodic_jobs``); changes of incident status queue signed webhooks, handed
over by ``drain_webhooks``, with the calls of the PagerDuty and Slack integrations a
rule's actions use (``integrations``, connected by the host).

Data are recorded when they are received, so an evaluation uses what is stored when
Snuba runs it: the update stamped ``T`` reads timestamps in ``[T - timeWindow, T)``, ``T``
a multiple of the resolution, run ``subscription_delay_seconds`` after ``T``
(``subscriptions``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from fakes.common.clock import Clock, to_iso
from fakes.sentry import sessions
from fakes.sentry.alerts import AlertRule, Evaluation, WebhookDelivery
from fakes.sentry.envelope import (
    EventFacts,
    Item,
    SessionAggregate,
    dsn_public_key,
    event_facts,
    parse_envelope,
    session_aggregates,
    session_update,
)
from fakes.sentry.errors import BadRequest, Forbidden, NotFound, Unauthorized
from fakes.sentry.incidents import AlertBook
from fakes.sentry.integrations import Integrations
from fakes.sentry.issues import SORTS, Issue, serialize_issue
from fakes.sentry.measures import measure
from fakes.sentry.release_api import ReleaseAPI
from fakes.sentry.releases import ReleaseBook
from fakes.sentry.search import parse_search
from fakes.sentry.store import CountStore

Key = tuple[str, str]  # (release, environment)
_SEVERITY = (sessions.HEALTHY, sessions.ERRORED, sessions.ABNORMAL, sessions.CRASHED)


def _environments(environment: str | Sequence[str] | None) -> list[str]:
    if environment is None:
        return []
    return [environment] if isinstance(environment, str) else list(environment)


class SentryBackend(ReleaseAPI):
    """Sentry's state machine for one org and project; times are virtual seconds."""

    def __init__(self, clock: Clock, org: str = "logos-vision",
                 project_slug: str = "contacts-web", project_id: int = 42,
                 public_key: str = "drillpublickey0000000000000000000",
                 auth_token: str = "sntrys_drill",
                 webhook_secret: str = "drill-webhook-secret",
                 webhook_url: str | None = None) -> None:
        self.clock = clock
        self.org = org
        self.project_slug = project_slug
        self.project_id = project_id
        self.public_key = public_key
        self.auth_token = auth_token
        self.webhook_secret = webhook_secret
        self._webhook_url = webhook_url
        self.evaluation_interval = 60.0
        self.integrations = Integrations()  # PagerDuty, Slack: none connected by default
        self._init_state()

    def _init_state(self) -> None:
        self._counts = CountStore(self.clock)
        self._sessions = self._counts.sessions
        self._issues: dict[tuple[str, str], Issue] = {}
        self._session_ids: dict[str, tuple[Key, float, int]] = {}  # key, started, column
        self._releases = ReleaseBook(self.clock, self.project_slug)
        self._envelopes = 0
        self._alerts = AlertBook(self.clock, self.org, self.project_slug,
                                 self.webhook_secret, self._webhook_url, self._measure,
                                 self.integrations)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook_url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self._webhook_url = self._alerts.webhook_url = url

    def _iso(self, t: float) -> str:
        return to_iso(self.clock, t)

    def dsn(self, base_url: str) -> str:
        """The project's DSN on a server at ``base_url`` (``http://127.0.0.1:9000``)."""
        scheme, _, host = base_url.rstrip("/").partition("://")
        return f"{scheme}://{self.public_key}@{host}/{self.project_id}"

    # --- data plane ---------------------------------------------------------------------

    def record_session_aggregates(self, release: str, environment: str, started: float,
                                  exited: int = 0, errored: int = 0, crashed: int = 0,
                                  abnormal: int = 0) -> None:
        """Add one ``sessions`` aggregate: counts of sessions started in the minute of
        ``started`` (virtual seconds), by final status. Counts must be ≥ 0."""
        if self._counts.add_sessions((release, environment), started,
                                     (exited, errored, crashed, abnormal)):
            self._saw_release(release)

    def record_error_events(self, release: str, environment: str, timestamp: float,
                            count: int, exc_type: str = "Error", value: str = "",
                            culprit: str = "", level: str = "error",
                            users: int | None = None, unhandled: bool = False) -> None:
        """Add ``count`` error events that share a fingerprint (exc_type, culprit), seen
        at ``timestamp``; ``users`` (default: ``count``) adds to the issue's userCount;
        ``unhandled``: the SDK caught them in its global handler (``handled: false``)."""
        if count <= 0:
            return
        key = (release, environment)
        if self._counts.add_errors(key, timestamp, count, unhandled):
            self._saw_release(release)
        issue = self._issues.get((exc_type, culprit))
        if issue is None:
            issue = self._new_issue(exc_type, value, culprit, level)
        issue.record(key, timestamp, count, count if users is None else users)
        issue.unhandled = issue.unhandled or unhandled

    def _new_issue(self, exc_type: str, value: str, culprit: str, level: str) -> Issue:
        number = len(self._issues) + 1
        short_id = f"{self.project_slug.upper()}-{number}"
        issue = self._issues[(exc_type, culprit)] = Issue(number, short_id, exc_type, value,
                                                          culprit, level)
        return issue

    def _saw_release(self, release: str) -> None:
        """Sentry creates a release the first time data name it."""
        self._releases.saw(release)

    # --- ingestion ----------------------------------------------------------------------

    def ingest_envelope(self, project_id: int, auth_public_key: str | None,
                        body: bytes) -> str | None:
        """Store what an envelope carries; return its event id, if any.

        Raises Unauthorized without a key (header, ``sentry_key`` or the envelope's
        ``dsn``), Forbidden for a wrong key or project, InvalidEnvelope (400) when any
        part does not parse, in which case nothing of the envelope is stored.
        """
        if auth_public_key:
            self._check_key(project_id, auth_public_key)
        envelope = parse_envelope(body)
        if not auth_public_key:
            key = dsn_public_key(envelope.headers.get("dsn"))
            if key is None:
                raise Unauthorized("missing authorization information")
            self._check_key(project_id, key)
        steps = [self._plan(item) for item in envelope.items]  # parse all before storing
        event_ids = []
        for step in steps:
            event_id = step() if step is not None else None
            if event_id:
                event_ids.append(event_id)
        self._envelopes += 1
        header_id = envelope.headers.get("event_id")
        return str(header_id) if header_id else (event_ids[0] if event_ids else None)

    def _check_key(self, project_id: int, key: str) -> None:
        if key != self.public_key:
            raise Forbidden("event submission rejected with_reason: ProjectKey")
        if project_id != self.project_id:
            raise Forbidden("event submission rejected with_reason: ProjectId")

    def _plan(self, item: Item) -> Callable[[], str | None] | None:
        """Parse one item now (raising on garbage); return what storing it takes."""
        if item.type == "event":
            event = item.json()
            facts = event_facts(event, self.clock)
            return lambda: self._store_event(facts, event)
        if item.type == "session":
            update = session_update(item.json(), self.clock)
            return (lambda: self._session(*update)) if update else None
        if item.type == "sessions":
            aggregates = session_aggregates(item.json(), self.clock)
            return lambda: self._store_aggregates(aggregates)
        return None  # transaction, client_report, attachment, ...: accepted and ignored

    def _store_event(self, facts: EventFacts, event: dict[str, Any]) -> str | None:
        issue = self._issues.get((facts.exc_type, facts.culprit))
        new_user = facts.user is not None and (issue is None or
                                               facts.user not in issue.users_seen)
        self.record_error_events(facts.release, facts.environment, facts.timestamp, 1,
                                 facts.exc_type, facts.value, facts.culprit, facts.level,
                                 users=1 if new_user else 0, unhandled=facts.unhandled)
        issue = self._issues[(facts.exc_type, facts.culprit)]
        if facts.user is not None:
            issue.users_seen.add(facts.user)
        issue.latest_event = event
        return facts.event_id

    def _session(self, sid: str, key: Key, started: float, column: int) -> None:
        """Count a session once, in the column of its worst status so far: the first
        update counts it, a later, worse one moves it (ok → errored → abnormal → crashed).
        A session's minute is the one it started in, as for aggregates."""
        seen = self._session_ids.get(sid) if sid else None
        if seen is None:
            counts = [0, 0, 0, 0]
            counts[column] = 1
            self.record_session_aggregates(key[0], key[1], started, *counts)
            if sid:
                self._session_ids[sid] = (key, started, column)
            return
        old_key, first, old = seen
        if _SEVERITY.index(column) > _SEVERITY.index(old):
            self._counts.move_session(old_key, first, old, column)
            self._session_ids[sid] = (old_key, first, column)

    def _store_aggregates(self, aggregates: list[SessionAggregate]) -> None:
        for (release, environment), started, counts in aggregates:
            self.record_session_aggregates(release, environment, started, *counts)

    # --- alerting -----------------------------------------------------------------------

    def _measure(self, rule: AlertRule, end: int) -> float | None:
        """The rule's aggregate in the update stamped ``end`` (``measures.measure``); the
        alert book's callback."""
        return measure(rule, end, self._counts.errors, self._counts.session_series)

    def create_alert_rule(self, payload: Any) -> dict[str, Any]:
        """Store a metric alert rule; raises ValidationError (400) for a bad payload."""
        return self._alerts.create_alert_rule(payload)

    def list_alert_rules(self) -> list[dict[str, Any]]:
        return self._alerts.list_alert_rules()

    def get_alert_rule(self, rule_id: Any) -> dict[str, Any]:
        """Raises NotFound for an unknown rule."""
        return self._alerts.get_alert_rule(rule_id)

    def delete_alert_rule(self, rule_id: Any) -> None:
        """Raises NotFound for an unknown rule."""
        self._alerts.delete_alert_rule(rule_id)

    def rule_evaluations(self, rule_id: Any) -> list[Evaluation]:
        """A rule's evaluation log, ``(t, value, status)`` each; raises NotFound."""
        return self._alerts.rule_evaluations(rule_id)

    def evaluate_alert_rules(self, catch_up: bool = False) -> list[dict[str, Any]]:
        """Evaluate the updates Snuba has run by now (``catch_up``: and each rule's next,
        at once): ``{rule_id, name, t, end, value, status, action}`` each."""
        return self._alerts.evaluate(catch_up)

    def alert_incidents(self) -> list[dict[str, Any]]:
        """All incidents; ``date_started``/``date_detected``/``date_closed`` in virtual s."""
        return self._alerts.alert_incidents()

    def add_trigger_action(self, action: dict[str, Any], label: str = "critical") -> None:
        """Add ``action`` to every rule's ``label`` trigger (the rule as seeded pages)."""
        self._alerts.add_trigger_action(action, label)

    def drain_webhooks(self) -> list[WebhookDelivery]:
        """The queued webhook deliveries, oldest first; the queue is emptied."""
        return self._alerts.drain_webhooks()

    def periodic_jobs(self) -> list[tuple[str, float, Callable[[], Any]]]:
        """Work Sentry does on its own, for the host to run: (name, period s, job)."""
        return [("evaluate_alert_rules", self.evaluation_interval, self.evaluate_alert_rules)]

    # --- web API: auth and queries ------------------------------------------------------

    def authenticate(self, authorization: str | None) -> None:
        """Check ``Authorization: Bearer <token>``; raises Unauthorized."""
        if not authorization:
            raise Unauthorized("Authentication credentials were not provided.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.auth_token:
            raise Unauthorized("Invalid token")

    def auth_info(self, authorization: str | None) -> dict[str, Any]:
        """``GET /api/0/`` (what ``sentry-cli info`` asks): the API version and the token's
        scopes, as Sentry's ``IndexEndpoint`` answers (getsentry/sentry
        ``src/sentry/api/endpoints/index.py``); no credentials is no error there, a bad
        token is (Unauthorized). The fake's token is an organization auth token: scope
        ``org:ci`` and no user (Sentry docs, "Organization Tokens")."""
        if not authorization:
            return {"version": "0", "auth": None, "user": None}
        self.authenticate(authorization)
        return {"version": "0", "auth": {"scopes": ["org:ci"]}, "user": None}

    def check_org(self, org: str) -> None:
        if org != self.org:
            raise NotFound()

    def retrieve_project(self, id_or_slug: str) -> dict[str, str]:
        """``GET /api/0/projects/{org}/{project_id_or_slug}/``: the project (its numeric
        id as a string, as Sentry gives it); raises NotFound for another project."""
        if id_or_slug not in (self.project_slug, str(self.project_id)):
            raise NotFound()
        return self._project()

    def check_project(self, slug: str) -> None:
        if slug != self.project_slug:
            raise NotFound()

    def _check_projects(self, project: int | str | Sequence[int | str] | None) -> None:
        ids = [project] if isinstance(project, int | str) else list(project or [])
        for value in ids:
            try:
                number = int(value)
            except ValueError:
                raise BadRequest("Invalid project parameter. Values must be numbers.") from None
            if number not in (self.project_id, -1):
                raise Forbidden("You do not have permission to perform this action.")

    def _project(self) -> dict[str, str]:
        return {"id": str(self.project_id), "slug": self.project_slug,
                "name": self.project_slug, "platform": "javascript"}

    def sessions_stats(self, fields: Sequence[str],
                       environment: str | Sequence[str] | None = None, query: str = "",
                       stats_period_s: float = 86400.0, interval_s: float = 3600.0,
                       group_by_release: bool = False, group_by: Sequence[str] = (),
                       project: int | str | Sequence[int | str] | None = None
                       ) -> dict[str, Any]:
        """Sentry's sessions API: ``crash_free_rate(session)`` (0..1 or None),
        ``crash_rate(session)``, ``sum(session)``; groupBy release/environment/
        project/session.status. Raises BadRequest, Forbidden (unknown project)."""
        self._check_projects(project)
        groups = list(group_by)
        if group_by_release and "release" not in groups:
            groups.append("release")
        return sessions.sessions_stats(
            self._sessions, self.clock.now(), self._iso, self.project_id, fields,
            _environments(environment), parse_search(query), query, stats_period_s,
            interval_s, groups)

    def list_issues(self, query: str = "is:unresolved",
                    environment: str | Sequence[str] | None = None,
                    stats_period_s: float = 14 * 86400.0, sort: str = "date",
                    project: int | str | Sequence[int | str] | None = None
                    ) -> list[dict[str, Any]]:
        """Issues with events in ``(now - stats_period_s, now]`` that pass ``query``
        and ``environment``, Sentry-shaped (``count`` is a string), sorted by ``sort``
        (date, new, freq, user). Raises BadRequest, Forbidden (unknown project)."""
        self._check_projects(project)
        if sort not in SORTS:
            raise BadRequest(f"Invalid sort: {sort!r}")
        search, envs = parse_search(query), _environments(environment)
        now = self.clock.now()
        lo, hi = math.floor((now - stats_period_s) / 60) + 1, math.floor(now / 60)
        out = []
        for issue in self._issues.values():
            keys = [k for k in issue.minutes if (not envs or k[1] in envs)
                    and search.match_key(*k)] if issue.matches(search) else []
            events, users = issue.window(keys, lo, hi)
            if events:
                out.append(serialize_issue(issue, keys, events, users, self._project(),
                                           self.org, self._iso))
        return sorted(out, key=SORTS[sort], reverse=True)

    # --- control plane ------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """A JSON-able summary of everything stored, for ``/_fake/state``."""
        session_totals = [
            {"release": r, "environment": e,
             **dict(zip(sessions.STATUSES, sessions.window_totals(m, min(m), max(m)),
                        strict=True))}
            for (r, e), m in self._sessions.items()]
        return {
            "now": self.clock.now(), "org": self.org, "project": self._project(),
            "evaluation_interval": self.evaluation_interval,
            "envelopes": self._envelopes, "sessions": session_totals,
            "errors": [{"release": r, "environment": e, "events": self._counts.error_total((r, e))}
                       for (r, e) in self._counts.errors],
            "issues": [{"id": str(i.id), "title": i.title, "culprit": i.culprit,
                        "count": sum(n for per in i.minutes.values()
                                     for n, _ in per.values())}
                       for i in self._issues.values()],
            "releases": self._releases.versions(),
            **self._alerts.state(),
        }

    def reset(self) -> None:
        """Forget all data, rules and incidents; keep keys, token and webhook settings."""
        self._init_state()

