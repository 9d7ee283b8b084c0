"""The team's Sentry metric alert rule, copied into the scenario's ``monitoring.alert``.

``GET /api/0/organizations/{org}/alert-rules/``, paged by Sentry's cursor ``Link``
header: follow ``rel="next"`` while its ``results="true"`` (docs.sentry.io/api/
pagination/; sentry-cli pages the same way). The rule is the one named ``--sentry-alert``
(or, by default, the scenario's own rule name; or the only rule of the project). Its
``timeWindow`` is minutes; its critical trigger's ``alertThreshold`` is the threshold.
Nothing is fitted: a copied input, cited as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sim.calibrate.sources import MAX_PAGES, PAGE, Api
from sim.errors import BadInput

FIELD = "monitoring.alert"


@dataclass(frozen=True)
class Copied:
    """An input copied from the vendor's configuration: the overrides it makes."""

    field: str
    pairs: list[tuple[str, Any]]
    source: str
    at: datetime
    n: int = 1  # a measured input (a share of sessions): its sample size,
    first: datetime | None = None  # the start of its period (None: ``at``),
    family: str = "copied"  # "binomial",
    interval: str = ""  # and the 95 % interval of its value


def sentry_rules(api: Api, org: str) -> list[dict[str, Any]]:
    """Every metric alert rule of the organization, following the cursor pages."""
    path, params = f"/api/0/organizations/{org}/alert-rules/", {"per_page": PAGE}
    rules: list[dict[str, Any]] = []
    url: str | None = api.base_url.rstrip("/") + path
    for _ in range(MAX_PAGES):
        if url is None:
            break
        r = api.get_response(url, params)
        rules += list(r.json())
        nxt = r.links.get("next") or {}
        url, params = (nxt.get("url"), {}) if nxt.get("results") == "true" else (None, {})
    return rules


def pick_rule(rules: list[dict[str, Any]], project: str | None, name: str | None,
              scenario_name: str) -> dict[str, Any]:
    """The rule to copy; raises BadInput naming the rules when none or several fit."""
    mine = [r for r in rules if not project or project in (r.get("projects") or [])]
    if project and not mine:
        raise BadInput(f"sentry: no alert rule watches project {project!r} (--sentry-project;"
                       f" {len(rules)} rule(s) in the organization)")
    for wanted in (name, scenario_name):
        found = [r for r in mine if wanted and r.get("name") == wanted]
        if found:
            return found[0]
    if len(mine) == 1 and name is None:
        return mine[0]
    names = ", ".join(repr(r.get("name")) for r in mine) or "none"
    raise BadInput(f"sentry: pick the alert rule with --sentry-alert NAME (rules: {names})")


def copied_rule(rule: dict[str, Any], org: str) -> Copied:
    """The ``monitoring.alert.*`` overrides a Sentry rule makes."""
    critical = next((t for t in rule.get("triggers") or [] if t.get("label") == "critical"),
                    None)
    if critical is None:
        raise BadInput(f"sentry: rule {rule.get('name')!r} has no critical trigger")
    kind = rule.get("thresholdType")
    pairs: list[tuple[str, Any]] = [
        (f"{FIELD}.name", rule.get("name")), (f"{FIELD}.aggregate", rule.get("aggregate")),
        (f"{FIELD}.query", rule.get("query") or ""),
        (f"{FIELD}.time_window", float(rule.get("timeWindow") or 0) * 60),
        (f"{FIELD}.threshold", critical.get("alertThreshold")),
        (f"{FIELD}.threshold_type", "below" if kind in (1, "below") else "above"),
        (f"{FIELD}.threshold_period", rule.get("thresholdPeriod") or 1),
        (f"{FIELD}.resolve_threshold", rule.get("resolveThreshold"))]
    source = (f"Sentry GET /api/0/organizations/{org}/alert-rules/ rule "
              f"{rule.get('name')!r} (id {rule.get('id')})")
    return Copied(FIELD, pairs, source, when(rule.get("dateModified") or rule.get("dateCreated"),
                                             f"Sentry alert rule {rule.get('name')!r}"))


def when(value: Any, what: str = "the vendor's record") -> datetime:
    """An ISO-8601 time from the API (no zone: UTC). Sentry's rules carry
    ``dateModified``/``dateCreated`` and PostHog's flags ``created_at``; one with no
    readable date is refused (``BadInput``), never dated by this machine's clock (the
    overlay would differ from run to run)."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"calibrate: {what} has no readable date ({value!r})") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
