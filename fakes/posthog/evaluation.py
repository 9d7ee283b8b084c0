"""PostHog flag evaluation as pure functions: the bucketing hash, one user, many users.

``posthog_hash`` is the sha1 bucketing posthog-python uses for local evaluation (and the
server for ``/flags``): the first 15 hex digits of ``sha1("{key}.{id}{salt}")`` over
``0xFFFFFFFFFFFFFFF``; a user is in a rollout iff that hash is <= percentage/100.

``match_flag`` evaluates one flag definition (the dict ``/flags/definitions`` serves) for
one user, as posthog-python's local evaluation does: an inactive flag is false, a holdout
comes first, condition groups are tried in order and the first match wins, a matching
multivariate flag picks its variant with a second hash salted ``"variant"``. Where the
SDK would give up and ask the server (a person property it was not given), this answers
as the server does: the condition does not match.

``rollout_mask`` answers the same question for a whole population at once with numpy,
for the definitions a drill uses; it raises NotImplementedError for anything else.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

LONG_SCALE = float(0xFFFFFFFFFFFFFFF)

#: Operators ``match_flag`` understands, the ones the fake accepts in a definition.
SUPPORTED_OPERATORS = frozenset({
    "exact", "is_not", "is_set", "is_not_set",
    "icontains", "not_icontains", "regex", "not_regex",
    "starts_with", "not_starts_with", "ends_with", "not_ends_with",
    "gt", "gte", "lt", "lte",
})
_TEXT_OPERATORS = frozenset({"icontains", "not_icontains", "starts_with", "not_starts_with",
                             "ends_with", "not_ends_with"})
_NUMERIC_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})
_NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# The server ranks why a flag did not match and reports the strongest reason; ties go
# to the later condition (rust/feature-flags get_highest_priority_match_evaluation).
_REASON_RANK = {"no_condition_match": 2, "out_of_rollout_bound": 3}

REASON_DESCRIPTIONS = {
    "no_condition_match": "No matching condition set",
    "out_of_rollout_bound": "Out of rollout bound",
    "no_group_type": "No group type",
    "holdout_condition_value": "Holdout condition value",
    "flag_disabled": "Feature flag is disabled",
}


class FlagMatch(NamedTuple):
    """One user's answer: ``enabled``, the ``variant`` (or None), why, and which group."""

    enabled: bool
    variant: str | None
    reason: str
    condition_index: int | None

    @property
    def value(self) -> bool | str:
        """What the SDKs return: the variant, else the boolean."""
        return self.variant if self.variant is not None else self.enabled


def reason_description(reason: str, condition_index: int | None) -> str:
    """The server's human text for a reason code."""
    if reason == "condition_match":
        return f"Matched condition set {(condition_index or 0) + 1}"
    return REASON_DESCRIPTIONS.get(reason, reason)


# --- hashing -------------------------------------------------------------------------

def posthog_hash(key: str, bucketing_value: str, salt: str = "") -> float:
    """posthog-python's ``_hash``: a float in [0, 1] fixed by flag key, id and salt."""
    digest = hashlib.sha1(f"{key}.{bucketing_value}{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / LONG_SCALE


HASH_CHUNK = 65536  # ids hashed per batch (bounds the interim Python objects)


def posthog_hashes(key: str, ids: Sequence[str] | np.ndarray, salt: str = "") -> np.ndarray:
    """``posthog_hash`` for many ids at once, as float64, bit-identical to the scalar.

    The 15 hex digits are the top 60 bits of the digest, so the raw digests are joined
    and read by numpy as big-endian uint64 shifted right by 4: only sha1 stays in Python.
    """
    prefix, sha1 = f"{key}.", hashlib.sha1
    if isinstance(ids, np.ndarray) and ids.dtype.kind == "S":  # ASCII ids: hashed as bytes,
        head, tail = prefix.encode(), salt.encode()  # the same text, no str round trip;
        out = np.empty(ids.shape[0], dtype=np.float64)  # in chunks: no million-object lists
        for i in range(0, ids.shape[0], HASH_CHUNK):
            part = ids[i:i + HASH_CHUNK].tolist()
            out[i:i + len(part)] = _top_60_bits(
                b"".join([sha1(head + s + tail).digest() for s in part]))
        return out
    texts = _as_str_array(ids).tolist() if isinstance(ids, np.ndarray) else ids
    try:
        raw = b"".join([sha1((prefix + s + salt).encode()).digest() for s in texts])
    except TypeError:  # non-str ids (ints, numpy scalars): format them as the SDK does
        raw = b"".join([sha1(f"{prefix}{s}{salt}".encode()).digest() for s in texts])
    return _top_60_bits(raw)


def _top_60_bits(raw: bytes) -> np.ndarray:
    """Joined sha1 digests as posthog's hash floats: the top 60 bits over LONG_SCALE."""
    digests = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 20)
    top = np.ascontiguousarray(digests[:, :8]).view(">u8").ravel() >> np.uint64(4)
    return top.astype(np.float64) / LONG_SCALE


def _as_str_array(ids: np.ndarray) -> np.ndarray:
    """Byte-string arrays (dtype ``S``) as text, so ids hash as the SDK sees them."""
    return ids.astype(np.str_) if ids.dtype.kind == "S" else ids


# --- property matching ---------------------------------------------------------------

def _as_text(value: Any) -> str:
    """A property value as posthog compares it: strings as-is, the rest as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _boolish(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.lower() in ("true", "false")
    if isinstance(value, list):
        return all(_boolish(v) for v in value)
    return False


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    if isinstance(value, list):
        return all(_truthy(v) for v in value)
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, str) and not _NUMERIC_TEXT.fullmatch(value):
        return None
    parsed = float(value)
    return parsed if math.isfinite(parsed) else None


def _match_exact(expected: Any, actual: Any) -> bool:
    # Filters of true/false compare truthiness, not text (property_matching_version 1).
    if expected == []:
        return _truthy(actual)
    if _boolish(expected):
        return _truthy(expected) == _truthy(actual)
    actual_text = _as_text(actual).lower()
    if isinstance(expected, list):
        return actual_text in {_as_text(v).lower() for v in expected}
    return _as_text(expected).lower() == actual_text


def _match_text(operator: str, expected: Any, actual: Any) -> bool:
    have = _as_text(actual).translate(_ASCII_LOWER)
    want = _as_text(expected).translate(_ASCII_LOWER)
    if operator.endswith("icontains"):
        hit = want in have
    elif operator.endswith("starts_with"):
        hit = have.startswith(want)
    else:
        hit = have.endswith(want)
    return not hit if operator.startswith("not_") else hit


def _match_regex(operator: str, pattern: Any, actual: Any) -> bool:
    try:
        hit = str(pattern) == "" or re.search(str(pattern), _as_text(actual)) is not None
    except re.error:
        return False  # an invalid pattern matches nobody, either way round
    return not hit if operator == "not_regex" else hit


def _match_numeric(operator: str, expected: Any, actual: Any) -> bool:
    want, have = _number(expected), _number(actual)
    if want is None or have is None:
        return False
    return {"gt": have > want, "gte": have >= want, "lt": have < want, "lte": have <= want}[
        operator]


def match_property(prop: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """Whether one person-property filter matches; a missing property matches only
    ``is_not_set`` (the server's view: the person simply lacks it)."""
    operator = prop.get("operator") or "exact"
    key = prop.get("key")
    if not isinstance(key, str) or key not in properties:
        return operator == "is_not_set"
    if operator in ("is_set", "is_not_set"):
        return operator == "is_set"
    actual, expected = properties[key], prop.get("value")
    if operator in _NUMERIC_OPERATORS:
        return _match_numeric(operator, expected, actual)
    if operator in ("exact", "is_not"):
        return _match_exact(expected, actual) == (operator == "exact")
    if operator in _TEXT_OPERATORS:
        return _match_text(operator, expected, actual)
    if operator in ("regex", "not_regex"):
        return _match_regex(operator, expected, actual)
    raise NotImplementedError(f"operator {operator!r} is not supported by the fake")


# --- one user -----------------------------------------------------------------------

def _variants(filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((filters.get("multivariate") or {}).get("variants") or [])


def matching_variant(flag: Mapping[str, Any], bucketing_value: str) -> str | None:
    """The variant whose cumulative [min, max) range holds the ``"variant"`` hash."""
    variants = _variants(flag.get("filters") or {})
    if not variants:
        return None
    value = posthog_hash(flag["key"], bucketing_value, salt="variant")
    low = 0.0
    for variant in variants:
        high = low + variant["rollout_percentage"] / 100
        if low <= value < high:
            return str(variant["key"])
        low = high
    return None


def _holdout_variant(filters: Mapping[str, Any], bucketing_value: str) -> str | None:
    holdout = filters.get("holdout") or {}
    percentage, holdout_id = holdout.get("exclusion_percentage"), holdout.get("id")
    if percentage is None or holdout_id is None:
        return None
    percentage = min(max(float(percentage), 0.0), 100.0)
    # The server hashes "holdout-<value>": a dash, not the dot flags use.
    digest = hashlib.sha1(f"holdout-{bucketing_value}".encode()).hexdigest()
    if percentage != 100.0 and int(digest[:15], 16) / LONG_SCALE > percentage / 100:
        return None
    return f"holdout-{holdout_id}"


def _group_outcome(key: str, group: Mapping[str, Any], properties: Mapping[str, Any],
                   bucketing_value: str) -> str:
    """``condition_match``, ``no_condition_match`` or ``out_of_rollout_bound``."""
    if not all(match_property(p, properties) for p in group.get("properties") or []):
        return "no_condition_match"
    percentage = group.get("rollout_percentage")
    if percentage is not None and posthog_hash(key, bucketing_value) > percentage / 100:
        return "out_of_rollout_bound"
    return "condition_match"


def match_flag(flag: Mapping[str, Any], distinct_id: str,
               person_properties: Mapping[str, Any] | None = None) -> FlagMatch:
    """Evaluate one flag definition for one user, as posthog-python does locally.

    ``person_properties`` get ``distinct_id`` added unless given, as the SDK does.
    Group (``aggregation_group_type_index``) flags need groups, which the fake does not
    model: they come back disabled with reason ``no_group_type``.
    """
    if flag.get("deleted") or not flag.get("active"):
        return FlagMatch(False, None, "flag_disabled", None)
    filters = flag.get("filters") or {}
    if filters.get("aggregation_group_type_index") is not None:
        return FlagMatch(False, None, "no_group_type", None)
    bucketing_value = str(distinct_id)
    holdout = _holdout_variant(filters, bucketing_value)
    if holdout is not None:
        return FlagMatch(True, holdout, "holdout_condition_value", None)
    properties = {"distinct_id": distinct_id, **(person_properties or {})}
    return _match_groups(flag, filters, properties, bucketing_value)


def _match_groups(flag: Mapping[str, Any], filters: Mapping[str, Any],
                  properties: Mapping[str, Any], bucketing_value: str) -> FlagMatch:
    best, best_index = "no_condition_match", None
    variant_keys = {v["key"] for v in _variants(filters)}
    for index, group in enumerate(filters.get("groups") or []):
        outcome = _group_outcome(flag["key"], group, properties, bucketing_value)
        if outcome == "condition_match":
            override = group.get("variant")
            variant = (override if override and override in variant_keys
                       else matching_variant(flag, bucketing_value))
            return FlagMatch(True, variant, "condition_match", index)
        if _REASON_RANK[outcome] >= _REASON_RANK[best]:
            best, best_index = outcome, index
        if outcome == "out_of_rollout_bound" and filters.get("early_exit"):
            break
    return FlagMatch(False, None, best, best_index)


# --- many users -----------------------------------------------------------------------

_ID_KEYS = ("distinct_id", "id")


def _vector_property(prop: Mapping[str, Any], ids: np.ndarray | None) -> np.ndarray:
    operator = prop.get("operator") or "exact"
    value = prop.get("value")
    values = value if isinstance(value, list) else [value]
    if (prop.get("type", "person") != "person" or prop.get("key") not in _ID_KEYS
            or operator not in ("exact", "is_not") or value == [] or _boolish(value)):
        raise NotImplementedError(f"rollout_mask cannot vectorize the filter {dict(prop)!r}")
    if ids is None:
        raise ValueError(f"the filter on {prop.get('key')!r} needs distinct_ids")
    hit = _lowered_in(ids, {_as_text(v).lower() for v in values})
    return hit if operator == "exact" else ~hit


def _lowered_in(ids: np.ndarray, wanted: set[str]) -> np.ndarray:
    """``str(id).lower() in wanted`` per id, as ``match_flag``'s exact compares."""
    if ids.dtype.kind == "U" and ids.size:
        codes = np.ascontiguousarray(ids).view(np.uint32)
        # No A-Z and nothing beyond ASCII: every id is its own lower case, so numpy's
        # string comparison alone decides (several times faster than lowering each id).
        if not ((codes >= 65) & (codes <= 90) | (codes > 127)).any():
            return np.isin(ids, np.array(sorted(wanted)))
    return np.fromiter((str(s).lower() in wanted for s in ids.tolist()), dtype=bool,
                       count=ids.shape[0])


def _check_vectorizable(flag: Mapping[str, Any], filters: Mapping[str, Any]) -> None:
    unsupported = [name for name in ("holdout", "feature_enrollment", "super_groups")
                   if filters.get(name)]
    if filters.get("aggregation_group_type_index") is not None:
        unsupported.append("aggregation_group_type_index")
    if (flag.get("bucketing_identifier") or filters.get("bucketing_identifier")) == "device_id":
        unsupported.append("bucketing_identifier")
    if unsupported:
        raise NotImplementedError(f"rollout_mask does not vectorize {unsupported}")


def rollout_mask(flag: Mapping[str, Any], hashes: np.ndarray,
                 distinct_ids: np.ndarray | Sequence[str] | None = None) -> np.ndarray:
    """Who has the flag enabled, for a population at once; equal to ``match_flag(...).enabled``.

    ``hashes`` are ``posthog_hashes(flag["key"], distinct_ids)``. Supported: inactive or
    deleted flags (nobody), groups with no property filters, and ``exact``/``is_not``
    filters on ``distinct_id`` or ``id`` (taken to be the distinct id: the population's
    ``id`` person property is its distinct id), which need ``distinct_ids``. Anything
    else raises NotImplementedError; fall back to ``match_flag`` per user.
    """
    hashes = np.asarray(hashes, dtype=np.float64)
    enabled = np.zeros(hashes.shape[0], dtype=bool)
    if flag.get("deleted") or not flag.get("active"):
        return enabled
    filters = flag.get("filters") or {}
    _check_vectorizable(flag, filters)
    decided = np.zeros_like(enabled)
    ids = None  # the distinct ids as text, made on the first property filter that reads them
    for group in filters.get("groups") or []:
        matched = np.ones_like(enabled)
        for prop in group.get("properties") or []:
            if ids is None and distinct_ids is not None:
                ids = _as_str_array(np.asarray(distinct_ids))
            matched &= _vector_property(prop, ids)
        percentage = group.get("rollout_percentage")
        in_rollout = matched if percentage is None else matched & (hashes <= percentage / 100)
        enabled |= in_rollout & ~decided
        # With early_exit a user whose filters matched but who fell outside the rollout
        # is decided (false) there and then; otherwise later groups still get a say.
        decided |= matched if filters.get("early_exit") else in_rollout
    return enabled
