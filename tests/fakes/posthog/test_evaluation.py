"""PostHog's bucketing hash and flag matching: scalar, vectorized, and their agreement."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from fakes.posthog.evaluation import match_flag, posthog_hash, posthog_hashes, rollout_mask

IDS = np.array([f"user-{i}" for i in range(10_000)])
INTERNAL = ["user-1", "USER-2", "user-4242", "not-a-user"]


def flag(groups: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    filters = {"groups": groups, **extra.pop("filters", {})}
    return {"id": 1, "key": "contacts_redesign", "active": True, "deleted": False,
            "filters": filters, **extra}


def group(percentage: float | None, properties: list[dict[str, Any]] | None = None
          ) -> dict[str, Any]:
    return {"properties": properties or [], "rollout_percentage": percentage}


def internal_users(key: str = "distinct_id", operator: str = "exact") -> dict[str, Any]:
    return {"key": key, "operator": operator, "value": INTERNAL, "type": "person"}


def test_the_hash_is_the_first_15_hex_digits_of_sha1_over_0xfffffffffffffff() -> None:
    digest = hashlib.sha1(b"contacts_redesign.user-1").hexdigest()
    assert posthog_hash("contacts_redesign", "user-1") == int(digest[:15], 16) / float(
        0xFFFFFFFFFFFFFFF)
    salted = hashlib.sha1(b"contacts_redesign.user-1variant").hexdigest()
    assert posthog_hash("contacts_redesign", "user-1", "variant") == int(
        salted[:15], 16) / float(0xFFFFFFFFFFFFFFF)


def test_vectorized_hashes_are_bit_identical_to_the_scalar_hash() -> None:
    scalar = np.array([posthog_hash("k", i) for i in IDS.tolist()])
    assert np.array_equal(posthog_hashes("k", IDS), scalar)
    assert np.array_equal(posthog_hashes("k", list(IDS)), scalar)
    assert posthog_hashes("k", [7, 8]).tolist() == [posthog_hash("k", "7"),
                                                    posthog_hash("k", "8")]
    assert posthog_hashes("k", ["a"], salt="variant")[0] == posthog_hash("k", "a", "variant")
    assert posthog_hashes("k", []).shape == (0,)
    assert np.array_equal(posthog_hashes("k", IDS.astype("S")), scalar)
    assert posthog_hashes("k", np.array([b"a"]), salt="variant")[0] == posthog_hash(
        "k", "a", "variant")


def test_an_inactive_or_deleted_flag_is_false_for_everyone() -> None:
    for definition in (flag([group(100)], active=False), flag([group(100)], deleted=True)):
        assert match_flag(definition, "user-1") == (False, None, "flag_disabled", None)
        assert not rollout_mask(definition, posthog_hashes("contacts_redesign", IDS)).any()


def test_a_holdout_comes_before_the_conditions() -> None:
    definition = flag([group(100)], filters={"holdout": {"id": 3, "exclusion_percentage": 20}})
    results = [match_flag(definition, u) for u in IDS.tolist()]
    held = [r for r in results if r.variant == "holdout-3"]
    assert 0.18 < len(held) / len(results) < 0.22
    assert all(r.enabled and r.reason == "holdout_condition_value" for r in held)


def test_early_exit_stops_at_the_first_group_whose_filters_matched() -> None:
    groups = [group(0, [{"key": "plan", "value": "pro"}]), group(100)]
    assert match_flag(flag(groups), "u", {"plan": "pro"}).enabled is True
    stopped = match_flag(flag(groups, filters={"early_exit": True}), "u", {"plan": "pro"})
    assert (stopped.enabled, stopped.reason) == (False, "out_of_rollout_bound")


def test_a_variant_override_on_the_matching_group_wins() -> None:
    variants = {"multivariate": {"variants": [{"key": "a", "rollout_percentage": 50},
                                              {"key": "b", "rollout_percentage": 50}]}}
    definition = flag([{**group(100), "variant": "b"}], filters=variants)
    assert {match_flag(definition, u).variant for u in IDS[:200].tolist()} == {"b"}


@pytest.mark.parametrize("percentage", [0, 0.5, 1, 12.5, 30, 50, 99.9, 100, None])
def test_rollout_mask_equals_match_flag_for_10000_ids(percentage: float | None) -> None:
    definitions = [
        flag([group(percentage)]),
        flag([group(None, [internal_users()]), group(percentage)]),
        flag([group(percentage, [internal_users("id")]), group(20)]),
        flag([group(percentage, [internal_users(operator="is_not")])]),
        flag([group(percentage, [internal_users()]), group(40)],
             filters={"early_exit": True}),
        flag([]),
    ]
    hashes = posthog_hashes("contacts_redesign", IDS)
    for definition in definitions:
        expected = [match_flag(definition, u, {"id": u}).enabled for u in IDS.tolist()]
        assert rollout_mask(definition, hashes, IDS).tolist() == expected, definition


@pytest.mark.parametrize("ids", [
    ["User-1", "user-2", "USER-4242", "Ünï-1", "not-a-user", "other"],
    np.array(["user-1", "user-2", "x"], dtype=object),
    np.array([b"user-1", b"user-2", b"x"]),
    [1, 2, 3],
])
def test_rollout_mask_compares_ids_case_insensitively_like_match_flag(ids: Any) -> None:
    definition = flag([group(None, [internal_users()]), group(50)])
    definition["filters"]["groups"][0]["properties"][0]["value"] = [*INTERNAL, "ünï-1", 2]
    hashes = posthog_hashes("contacts_redesign", ids)
    texts = [u.decode() if isinstance(u, bytes) else u for u in ids]
    expected = [match_flag(definition, u).enabled for u in texts]
    assert rollout_mask(definition, hashes, ids).tolist() == expected
    assert any(expected)


def test_rollout_mask_refuses_what_it_cannot_vectorize() -> None:
    hashes = posthog_hashes("contacts_redesign", IDS[:10])
    for definition in (
            flag([group(50, [{"key": "plan", "value": "pro"}])]),
            flag([group(50, [{"key": "distinct_id", "operator": "icontains", "value": "1"}])]),
            flag([group(50, [{"key": "distinct_id", "value": ["true"]}])]),
            flag([group(50)], filters={"holdout": {"id": 1, "exclusion_percentage": 10}}),
            flag([group(50)], filters={"aggregation_group_type_index": 0})):
        with pytest.raises(NotImplementedError):
            rollout_mask(definition, hashes, IDS[:10])
    with pytest.raises(ValueError):
        rollout_mask(flag([group(50, [internal_users()])]), hashes)


def test_byte_ids_hash_the_same_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule: hashing byte ids in batches gives every id the hash of its text, whatever
    the batch size (a population is hashed 65,536 ids at a time)."""
    import fakes.posthog.evaluation as evaluation

    monkeypatch.setattr(evaluation, "HASH_CHUNK", 3)
    scalar = np.array([posthog_hash("k", i) for i in IDS[:10].tolist()])
    assert np.array_equal(evaluation.posthog_hashes("k", IDS[:10].astype("S")), scalar)
