"""Checking and normalizing feature-flag definitions before the backend stores them.

``validate_filters`` accepts what PostHog's API accepts *and* the fake can evaluate
(person-property filters with ``evaluation.SUPPORTED_OPERATORS``, no cohorts, no
group or flag dependencies), fills the defaults the API returns (``multivariate``,
``payloads``, each group's ``rollout_percentage``) and raises ``ValidationError`` with
``attr`` naming the field otherwise. ``PATCH_CHECKS`` says which fields a PATCH may set.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from fakes.posthog.errors import ValidationError
from fakes.posthog.evaluation import SUPPORTED_OPERATORS

_KEY_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")


def valid_key(value: Any) -> str:
    if not isinstance(value, str) or not _KEY_PATTERN.match(value):
        raise ValidationError("Only letters, numbers, hyphens (-) & underscores (_) are "
                              "allowed.", attr="key")
    return value


def valid_str(value: Any, attr: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("Not a valid string.", attr=attr)
    return value


def valid_bool(value: Any, attr: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("Must be a valid boolean.", attr=attr)
    return value


def _valid_percentage(value: Any, what: str) -> float | int | None:
    if value is None and what == "rollout_percentage":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValidationError(f"{what} must be a number between 0 and 100, got {value!r}",
                              attr="filters")
    return value


def _valid_property(prop: Any) -> dict[str, Any]:
    if not isinstance(prop, dict) or not isinstance(prop.get("key"), str):
        raise ValidationError("each property filter needs a string key", attr="filters")
    if prop.get("type", "person") not in ("person", None):
        raise ValidationError(f"property type {prop.get('type')!r} is not supported by the "
                              "fake (person properties only)", attr="filters")
    operator = prop.get("operator") or "exact"
    if operator not in SUPPORTED_OPERATORS:
        raise ValidationError(f"operator {operator!r} is not supported by the fake",
                              attr="filters")
    if operator not in ("is_set", "is_not_set") and "value" not in prop:
        raise ValidationError(f"the {operator!r} filter on {prop['key']!r} needs a value",
                              attr="filters")
    return {**prop, "type": "person", "operator": operator}


def _valid_group(group: Any, variant_keys: set[str]) -> dict[str, Any]:
    if not isinstance(group, dict):
        raise ValidationError("each condition group must be an object", attr="filters")
    props = group.get("properties") or []
    if not isinstance(props, list):
        raise ValidationError("properties must be a list", attr="filters")
    out = {**group, "properties": [_valid_property(p) for p in props],
           "rollout_percentage": _valid_percentage(group.get("rollout_percentage"),
                                                   "rollout_percentage")}
    if group.get("variant") is not None and group["variant"] not in variant_keys:
        raise ValidationError(f"variant override {group['variant']!r} is not a variant",
                              attr="filters")
    return out


def _valid_multivariate(multivariate: Any) -> dict[str, Any] | None:
    if not multivariate:
        return None
    variants = multivariate.get("variants") if isinstance(multivariate, dict) else None
    if not isinstance(variants, list) or not all(
            isinstance(v, dict) and isinstance(v.get("key"), str) for v in variants):
        raise ValidationError("multivariate.variants must be a list of {key, "
                              "rollout_percentage}", attr="filters")
    total = sum(_valid_percentage(v.get("rollout_percentage"), "variant rollout_percentage")
                or 0 for v in variants)
    if variants and abs(total - 100) > 1e-9:
        raise ValidationError("Invalid variant definitions: Variant rollout percentages "
                              "must sum to 100.", attr="filters")
    return {**multivariate, "variants": [dict(v) for v in variants]}


def validate_filters(filters: Any) -> dict[str, Any]:
    """Checked, normalized flag filters (groups, multivariate, payloads always present);
    raises ValidationError naming what is wrong."""
    if not isinstance(filters, Mapping):
        raise ValidationError("filters must be an object", attr="filters")
    groups = filters.get("groups") or []
    if not isinstance(groups, list):
        raise ValidationError("filters.groups must be a list", attr="filters")
    multivariate = _valid_multivariate(filters.get("multivariate"))
    variant_keys = {v["key"] for v in (multivariate or {}).get("variants", [])}
    payloads = filters.get("payloads") or {}
    if not isinstance(payloads, dict):
        raise ValidationError("filters.payloads must be an object", attr="filters")
    return {**copy.deepcopy(dict(filters)),
            "groups": [_valid_group(g, variant_keys) for g in groups],
            "multivariate": multivariate, "payloads": copy.deepcopy(payloads)}


#: What PATCH may change, and how each value is checked; other fields are ignored.
PATCH_CHECKS: dict[str, Callable[[Any], Any]] = {
    "key": valid_key,
    "name": lambda v: valid_str(v, "name"),
    "active": lambda v: valid_bool(v, "active"),
    "deleted": lambda v: valid_bool(v, "deleted"),
    "ensure_experience_continuity": lambda v: valid_bool(v, "ensure_experience_continuity"),
    "filters": validate_filters,
}

def is_simple(filters: Mapping[str, Any]) -> bool:
    groups = filters.get("groups") or []
    return len(groups) == 1 and not groups[0].get("properties")


def simple_rollout(filters: Mapping[str, Any]) -> float | int | None:
    return filters["groups"][0].get("rollout_percentage") if is_simple(filters) else None
