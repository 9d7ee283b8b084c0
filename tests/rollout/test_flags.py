"""rollout.release.flags reproduces the runbook's featureFlags.ts bit for bit, scalar and
vectorized.

Expected values were taken from node 20 running the runbook's own code
(tests/rollout/fixtures/featureFlags.js); the ``node`` test checks them again on
~20,000 ids whenever node is on PATH.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout.release.flags import (
    INTERNAL_ENV_FLAG,
    REMOTE_UNDEFINED,
    ROLLOUT_ENV,
    FlagEnv,
    FlagMode,
    bucket,
    buckets,
    evaluate_population,
    hash_code,
    hash_codes,
    should_show_new_contacts,
    should_show_new_contacts_internal,
    should_show_new_contacts_percentage,
    should_show_new_contacts_remote,
)

FIXTURE = Path(__file__).parent / "fixtures" / "featureFlags.js"

# hashCode(s) == -2**31: Math.abs keeps it at 2**31, so bucket 48. The first is in the
# simulation's id format (found by meet-in-the-middle over the 12 hex digits); the
# others are the classic Java String.hashCode == Integer.MIN_VALUE examples.
MIN_INT_IDS = ("usr_ab0f23000052", "polygenelubricants", "GydZG_", "DESIGNING WORKHOUSES")

INTERNAL = ("user-id-1", "user-id-2")
ON_50 = FlagEnv("true", "50")

# Raw env strings covering the parseInt and === 'true' quirks; used against node too.
ENV_VARIANTS = [
    {},
    {INTERNAL_ENV_FLAG: "true"},
    {INTERNAL_ENV_FLAG: "true", ROLLOUT_ENV: "50"},
    {INTERNAL_ENV_FLAG: "TRUE", ROLLOUT_ENV: "50"},
    {INTERNAL_ENV_FLAG: "1", ROLLOUT_ENV: "100"},
    {INTERNAL_ENV_FLAG: "true ", ROLLOUT_ENV: "100"},
    {INTERNAL_ENV_FLAG: "false", ROLLOUT_ENV: "100"},
    *(
        {INTERNAL_ENV_FLAG: "true", ROLLOUT_ENV: raw}
        for raw in (
            "",
            "0",
            "10",
            "100",
            "101",
            "-5",
            "50abc",
            " 7",
            "abc",
            "12.5",
            "1e2",
            "+40",
            "-0",
            "0x32",
            "0X1f",
            "0x",
            "0xg",
            "\u00a030",
            "\ufeff30",
            "\u300030",
            "\n\t25",
            "\u180e30",
            "\x1c30",
            "\u008530",
            "Infinity",
            "99999999999999999999999",
        )
    ),
]


# --- hash_code and bucket -------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("", 0),
        ("a", 97),
        ("abc", 96354),
        ("hello", 99162322),
        ("user-id-1", 293016769),
        ("\0", 0),
        ("a\0", 3007),
    ],
)
def test_hash_code_matches_node_on_known_ascii_values(s: str, expected: int) -> None:
    assert hash_code(s) == expected


def test_hash_code_of_empty_string_is_zero_and_bucket_zero() -> None:
    assert hash_code("") == 0
    assert bucket("") == 0


@pytest.mark.parametrize("s", MIN_INT_IDS)
def test_min_int_hash_lands_in_bucket_48_because_js_abs_does_not_wrap(s: str) -> None:
    assert hash_code(s) == -(2**31)
    assert bucket(s) == 2**31 % 100 == 48


def test_hash_code_wraps_to_signed_32_bit_at_every_step() -> None:
    s = "the quick brown fox jumps over the lazy dog"
    h = 0
    for ch in s:
        h = (31 * h + ord(ch)) % 2**32
    assert hash_code(s) == (h - 2**32 if h >= 2**31 else h)
    assert -(2**31) <= hash_code(s) < 2**31


@pytest.mark.parametrize(
    ("s", "expected"),
    [("é", 233), ("café", 3045921), ("中文", 20013 * 31 + 25991)],
)
def test_bmp_characters_count_as_one_utf16_unit(s: str, expected: int) -> None:
    assert hash_code(s) == expected


def test_non_bmp_character_counts_as_its_two_surrogate_units() -> None:
    assert hash_code("😀") == 0xD83D * 31 + 0xDE00 == 1772899
    assert hash_code("😀") == hash_code("\ud83d\ude00")  # the pair spelled out


def test_lone_surrogate_is_hashed_as_its_code_unit() -> None:
    assert hash_code("\ud800") == 0xD800
    assert hash_code("x\udfff") == ord("x") * 31 + 0xDFFF


def test_bucket_is_abs_hash_mod_100() -> None:
    for s in ("abc", "hello", "user-id-1", "😀", "usr_0123456789ab"):
        assert bucket(s) == abs(hash_code(s)) % 100
        assert 0 <= bucket(s) < 100


# --- FlagEnv: === 'true' and parseInt(raw || '0') ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "enabled"),
    [
        ("true", True),
        ("TRUE", False),
        ("True", False),
        ("1", False),
        (" true", False),
        ("true ", False),
        ("false", False),
        ("", False),
        (None, False),
    ],
)
def test_feature_enabled_only_for_exact_string_true(raw: str | None, enabled: bool) -> None:
    assert FlagEnv(raw, "50").feature_enabled is enabled


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 0.0),
        ("", 0.0),
        ("0", 0.0),
        ("50", 50.0),
        ("50abc", 50.0),
        (" 7", 7.0),
        ("\n\t25", 25.0),
        ("\u00a030", 30.0),
        ("\ufeff30", 30.0),
        ("+40", 40.0),
        ("-5", -5.0),
        ("12.5", 12.0),
        ("1e2", 1.0),
        ("0x32", 50.0),
        ("0X1f", 31.0),
        ("-0x10", -16.0),
        ("101", 101.0),
    ],
)
def test_rollout_percentage_is_js_parse_int_of_raw_or_zero(
    raw: str | None, expected: float
) -> None:
    assert FlagEnv("true", raw).rollout_percentage == expected


@pytest.mark.parametrize(
    "raw", ["abc", "0x", "0xg", "-", "Infinity", "\u180e30", "\x1c30", "\u008530", " "]
)
def test_rollout_percentage_is_nan_without_leading_digits(raw: str) -> None:
    assert math.isnan(FlagEnv("true", raw).rollout_percentage)


def test_flag_env_from_mapping_reads_the_two_vite_variables() -> None:
    env = FlagEnv.from_mapping({INTERNAL_ENV_FLAG: "true", ROLLOUT_ENV: "50", "OTHER": "x"})
    assert env == FlagEnv("true", "50")
    assert FlagEnv.from_mapping({}) == FlagEnv(None, None)


# --- the three forms of shouldShowNewContacts -------------------------------------------


def test_internal_form_shows_only_internal_users_when_flag_on() -> None:
    assert should_show_new_contacts_internal("user-id-1", ON_50, INTERNAL)
    assert not should_show_new_contacts_internal("someone", FlagEnv("true", "100"), INTERNAL)
    assert not should_show_new_contacts_internal("user-id-1", FlagEnv("TRUE", "50"), INTERNAL)


def test_percentage_form_internal_users_always_see_new_version_when_flag_on() -> None:
    assert should_show_new_contacts_percentage("user-id-1", FlagEnv("true", "0"), INTERNAL)
    assert should_show_new_contacts_percentage("user-id-1", FlagEnv("true", "abc"), INTERNAL)
    assert not should_show_new_contacts_percentage("user-id-1", FlagEnv("1", "100"), INTERNAL)


def test_percentage_form_shows_buckets_below_the_percentage() -> None:
    assert bucket("abc") == 54
    assert should_show_new_contacts_percentage("abc", FlagEnv("true", "55"), INTERNAL)
    assert not should_show_new_contacts_percentage("abc", FlagEnv("true", "54"), INTERNAL)
    assert not should_show_new_contacts_percentage("abc", FlagEnv("true", "54.9"), ())  # 54


@pytest.mark.parametrize("raw", ["abc", "", None, "-5", "0"])
def test_percentage_form_shows_nobody_outside_the_list_at_nan_or_zero_or_negative(
    raw: str | None,
) -> None:
    env = FlagEnv("true", raw)
    assert not any(should_show_new_contacts_percentage(s, env, ()) for s in ("", "a", "abc"))


def test_percentage_form_min_int_user_is_in_bucket_48() -> None:
    uid = MIN_INT_IDS[0]
    assert should_show_new_contacts_percentage(uid, FlagEnv("true", "49"), ())
    assert not should_show_new_contacts_percentage(uid, FlagEnv("true", "48"), ())


@pytest.mark.parametrize(
    ("remote", "raw", "expected"),
    [
        (True, None, True),
        (False, "true", False),
        (None, "true", True),
        (None, "TRUE", False),
        (None, None, False),
    ],
)
def test_remote_form_uses_remote_flag_when_defined_else_env_flag(
    remote: bool | None, raw: str | None, expected: bool
) -> None:
    env = FlagEnv(raw, "0")  # the fallback ignores the percentage
    assert should_show_new_contacts_remote("anyone", remote, env) is expected


def test_dispatch_picks_the_form_named_by_mode_and_rejects_unknown_modes() -> None:
    env = FlagEnv("true", "100")
    assert not should_show_new_contacts(FlagMode.INTERNAL, "abc", env, INTERNAL)
    assert should_show_new_contacts(FlagMode.PERCENTAGE, "abc", env, INTERNAL)
    assert not should_show_new_contacts(FlagMode.REMOTE, "abc", env, INTERNAL, remote_flag=False)
    assert should_show_new_contacts("percentage", "abc", env, INTERNAL)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        should_show_new_contacts("bogus", "abc", env, INTERNAL)  # type: ignore[arg-type]


# --- vectorized == scalar ---------------------------------------------------------------

_ALPHABETS = [
    (0x20, 0x7F),  # printable ASCII
    (0xA0, 0x250),  # Latin-1 and Latin Extended
    (0x4E00, 0xA000),  # CJK
    (0xD800, 0xE000),  # lone surrogates: valid JS string units
    (0x1F300, 0x1FB00),  # emoji: surrogate pairs
    (0x10000, 0x110000),  # anywhere above the BMP
    (0, 2),  # NUL and U+0001
]


def random_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Random ids of mixed lengths and scripts, including non-BMP and trailing NULs."""
    ids = []
    for _ in range(n):
        length = int(rng.integers(0, 24))
        picks = rng.integers(0, len(_ALPHABETS), size=length)
        ids.append("".join(chr(int(rng.integers(*_ALPHABETS[k]))) for k in picks))
    return ids


def simulation_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Ids in the simulation's fixed-length ASCII form: ``usr_`` + 12 hex digits."""
    return [f"usr_{x:012x}" for x in rng.integers(0, 2**48, size=n).tolist()]


def scalar_hashes(ids: list[str]) -> np.ndarray:
    """The scalar hash_code of every id, for comparison with the vectorized one."""
    return np.array([hash_code(s) for s in ids], dtype=np.int64)


def test_vectorized_hash_equals_scalar_on_random_unicode_ids() -> None:
    ids = random_ids(np.random.default_rng(7), 3000) + list(MIN_INT_IDS) + ["", "\0", "a\0\0"]
    assert np.array_equal(hash_codes(ids), scalar_hashes(ids))
    assert np.array_equal(buckets(ids), [bucket(s) for s in ids])


def test_vectorized_hash_equals_scalar_on_fixed_length_ascii_fast_path() -> None:
    ids = [*simulation_ids(np.random.default_rng(8), 5000), MIN_INT_IDS[0]]
    hashes = hash_codes(ids)
    assert hashes.dtype == np.int32
    assert np.array_equal(hashes, scalar_hashes(ids))
    assert buckets(ids)[-1] == 48


@pytest.mark.parametrize(
    "ids",
    [
        ["ab\0d", "abcd"],  # equal length, but a NUL inside
        ["abc\0", "abcd"],  # equal length, trailing NUL
        ["ab", "abc", "a"],  # unequal lengths, total a multiple of the first
        ["abcd", "abc", "abcde"],
        ["éé", "ab"],  # equal length, not ASCII
        ["😀", "ab"],  # equal UTF-16 length, one code point vs two
        ["", "", ""],
        ["x" * 300, "short", "y" * 257 + "😀"],  # longer than the vectorized width
    ],
)
def test_vectorized_hash_equals_scalar_on_ids_that_must_leave_the_fast_path(
    ids: list[str],
) -> None:
    assert np.array_equal(hash_codes(ids), scalar_hashes(ids))


def test_vectorized_hash_accepts_numpy_str_bytes_and_object_arrays() -> None:
    ids = random_ids(np.random.default_rng(9), 500)
    as_u = np.array(ids)
    # a U array cannot hold trailing NULs: its elements are what numpy returns
    assert np.array_equal(hash_codes(as_u), scalar_hashes([str(s) for s in as_u]))
    assert np.array_equal(hash_codes(np.array(ids, dtype=object)), scalar_hashes(ids))
    ascii_ids = [*simulation_ids(np.random.default_rng(10), 500), "a", "", "ab\0c"]
    as_s = np.array([s.encode("ascii") for s in ascii_ids])
    assert np.array_equal(hash_codes(as_s), scalar_hashes([s.decode() for s in as_s]))
    assert np.array_equal(hash_codes(np.array(ascii_ids)), scalar_hashes(ascii_ids))


def test_vectorized_hash_keeps_the_shape_of_an_array_and_rejects_a_lone_string() -> None:
    grid = np.array([["abc", "😀"], ["", "polygenelubricants"]])
    assert hash_codes(grid).tolist() == [[96354, 1772899], [0, -(2**31)]]
    assert buckets(grid.astype(object)).tolist() == [[54, 99], [0, 48]]
    with pytest.raises(TypeError):
        hash_codes("abc")
    with pytest.raises(TypeError):
        hash_codes(np.array([1, 2]))


def test_vectorized_hash_of_no_ids_is_an_empty_array() -> None:
    assert hash_codes([]).shape == (0,)
    assert hash_codes(np.array([], dtype=str)).shape == (0,)
    assert buckets([]).shape == (0,)


def test_vectorized_buckets_are_small_ints_in_0_to_99() -> None:
    result = buckets(simulation_ids(np.random.default_rng(11), 2000))
    assert result.dtype == np.int16
    assert result.min() >= 0 and result.max() <= 99


# --- evaluate_population == scalar -------------------------------------------------------


@pytest.mark.parametrize("mode", list(FlagMode))
@pytest.mark.parametrize("raw_env", ENV_VARIANTS, ids=lambda env: repr(env)[:60])
def test_evaluate_population_matches_scalar_for_every_user(
    mode: FlagMode, raw_env: dict[str, str]
) -> None:
    rng = np.random.default_rng(12)
    ids = simulation_ids(rng, 150) + random_ids(rng, 50) + list(MIN_INT_IDS)
    internal = set(ids[::17])
    remote = rng.integers(-1, 2, size=len(ids)).astype(np.int8)
    env = FlagEnv.from_mapping(raw_env)
    got = evaluate_population(
        mode, buckets(ids), np.array([s in internal for s in ids]), env, remote
    )
    flags = [None if r == REMOTE_UNDEFINED else bool(r) for r in remote.tolist()]
    expected = [
        should_show_new_contacts(mode, s, env, internal, f) for s, f in zip(ids, flags, strict=True)
    ]
    assert got.dtype == bool
    assert got.tolist() == expected


def test_evaluate_population_remote_none_means_undefined_for_everyone() -> None:
    shown = evaluate_population(FlagMode.REMOTE, np.zeros(3), np.zeros(3, bool), FlagEnv("true"))
    assert shown.tolist() == [True, True, True]


# --- node parity ---------------------------------------------------------------------------


def run_node(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the runbook's JavaScript under node on ``payload``; skip when node is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not on PATH")
    done = subprocess.run(
        [node, str(FIXTURE)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


@pytest.mark.node
def test_python_matches_node_bit_for_bit_on_20000_ids() -> None:
    rng = np.random.default_rng(13)
    ids = simulation_ids(rng, 12_000) + random_ids(rng, 8_000) + list(MIN_INT_IDS)
    internal = ids[::101]
    main_env = ENV_VARIANTS[2]
    out = run_node({"ids": ids, "env": main_env, "internal": internal, "envs": ENV_VARIANTS})

    assert out["hash"] == hash_codes(ids).tolist() == [hash_code(s) for s in ids]
    assert out["bucket"] == buckets(ids).tolist() == [bucket(s) for s in ids]
    env = FlagEnv.from_mapping(main_env)
    internal_set = set(internal)
    assert out["show"] == [should_show_new_contacts_percentage(s, env, internal_set) for s in ids]

    is_internal = np.array([s in internal_set for s in ids])
    all_buckets = buckets(ids)
    for raw_env, shown in zip(ENV_VARIANTS, out["shows"], strict=True):
        variant = FlagEnv.from_mapping(raw_env)
        vectorized = evaluate_population(FlagMode.PERCENTAGE, all_buckets, is_internal, variant)
        assert shown == vectorized.tolist(), raw_env
        head = [should_show_new_contacts_percentage(s, variant, internal_set) for s in ids[:300]]
        assert shown[:300] == head, raw_env
