"""The runbook's feature-flag logic, faithfully, for one user and for a whole population.

``src/utils/featureFlags.ts`` appears in the runbook in three forms, all kept here:

- phase 1 (``should_show_new_contacts_internal``): env flag on, and the user is internal;
- phase 2 (``should_show_new_contacts_percentage``): env flag on, and the user is internal
  or falls in a bucket below ``parseInt(VITE_ROLLOUT_PERCENTAGE || '0')``;
- remote (``should_show_new_contacts_remote``): the PostHog flag when it is defined, else
  the env flag (which then ignores the percentage and the internal list).

The JavaScript semantics are reproduced bit for bit: ``hashCode`` walks UTF-16 code units
(a non-BMP character counts twice) and wraps to a signed 32-bit integer at every step;
``Math.abs(-2**31)`` is ``2**31``, so that hash lands in bucket 48; ``parseInt`` reads
leading digits and gives NaN (nobody matches ``bucket < NaN``); the env flag is on only
for the exact string ``'true'``.

``hash_codes``, ``buckets`` and ``evaluate_population`` are the numpy versions the
simulation uses; they agree with the scalar functions on every element.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

INTERNAL_ENV_FLAG = "VITE_FEATURE_CONTACTS_REDESIGN"
ROLLOUT_ENV = "VITE_ROLLOUT_PERCENTAGE"

REMOTE_UNDEFINED: int = -1
"""Encoding of the vectorized remote flag: -1 undefined, 0 false, 1 true."""

_MASK32 = 0xFFFF_FFFF
_INV31 = pow(31, -1, 1 << 32)  # 31 is odd, so it is invertible modulo 2**32
_SURROGATE_PAIR_MULTIPLIER = 31 * 31  # one code point, two Horner steps
_MAX_VECTOR_WIDTH = 256  # longer ids in a list are hashed one by one: no n x huge matrix

# JS StrWhiteSpaceChar (WhiteSpace + LineTerminator, Unicode Zs as of node 20); not
# Python's str.isspace, which also takes U+001C..U+001F and U+0085 and misses U+FEFF.
_JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_PARSE_INT = re.compile(r"([+-]?)(?:(0[xX])([0-9a-fA-F]*)|([0-9]*))")


class FlagMode(StrEnum):
    """Which of the runbook's three ``shouldShowNewContacts`` forms is deployed."""

    INTERNAL = "internal"
    PERCENTAGE = "percentage"
    REMOTE = "remote"


# --- hashing -------------------------------------------------------------------------


def hash_code(s: str) -> int:
    """Return the runbook's ``hashCode(s)``: Java-style, over UTF-16 units, signed 32-bit."""
    data = s.encode("utf-16-le", "surrogatepass")  # lone surrogates are valid JS units
    h = 0
    for unit in struct.unpack(f"<{len(data) // 2}H", data):
        h = (31 * h + unit) & _MASK32  # == ((h << 5) - h + char) & ... in JS, mod 2**32
    return h - (1 << 32) if h & 0x8000_0000 else h


def bucket(user_id: str) -> int:
    """Return ``Math.abs(hashCode(user_id)) % 100`` (``-2**31`` gives 48, as in JS)."""
    return abs(hash_code(user_id)) % 100


def hash_codes(ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """Return ``hash_code`` of every id as an int32 array.

    ``ids`` is a sequence of str, or a numpy array of ``U`` (str) or ``S`` (bytes, read
    as Latin-1 code units) dtype. An array element is what numpy returns for it, so an
    array cannot carry trailing NULs; a list can, and they are hashed exactly. An array
    gives an array of its shape. Raises TypeError for a lone str or bytes, or an array of
    another dtype.
    """
    if isinstance(ids, str | bytes):
        raise TypeError("ids must be a sequence of ids, not a single str or bytes")
    if isinstance(ids, np.ndarray):
        return _hash_array(ids)
    ids = ids if isinstance(ids, list) else list(ids)
    if not ids:
        return np.zeros(0, dtype=np.int32)
    fixed = _fixed_ascii_matrix(ids)
    if fixed is not None:
        return _horner31(fixed).view(np.int32)
    return _hash_list(ids)


def buckets(ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """Return ``bucket`` of every id as an int16 array of values 0..99."""
    magnitude = np.abs(hash_codes(ids).astype(np.int64))  # int32 abs(-2**31) would wrap
    return (magnitude % 100).astype(np.int16)


def _hash_array(ids: np.ndarray) -> np.ndarray:
    """Hash a numpy array of str, bytes or (object dtype) Python strings, keeping its shape."""
    if ids.dtype.kind == "O":
        return hash_codes(ids.ravel().tolist()).reshape(ids.shape)
    if ids.dtype.kind not in "US":
        raise TypeError(f"ids must be str or bytes, not {ids.dtype}")
    if ids.size == 0:
        return np.zeros(ids.shape, dtype=np.int32)
    units = _code_point_matrix(np.ascontiguousarray(ids.ravel()))
    nonzero = units != 0
    last = units.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
    lengths = np.where(nonzero.any(axis=1), last, 0)  # numpy drops trailing NULs
    return _hash_code_points(units, lengths).reshape(ids.shape)


def _hash_list(ids: list[str]) -> np.ndarray:
    """Hash a list of str of any lengths; the longest ones one by one, to bound memory."""
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    long = np.flatnonzero(lengths > _MAX_VECTOR_WIDTH)
    if long.size == 0:
        return _hash_padded(ids, lengths)
    short = np.flatnonzero(lengths <= _MAX_VECTOR_WIDTH)
    hashes = np.empty(len(ids), dtype=np.int32)
    hashes[long] = [hash_code(ids[i]) for i in long]
    if short.size:
        hashes[short] = _hash_padded([ids[i] for i in short], lengths[short])
    return hashes


def _hash_padded(ids: list[str], lengths: np.ndarray) -> np.ndarray:
    """Hash a list of str through a ``U`` array; ``lengths`` counts trailing NULs too."""
    units = np.array(ids, dtype=f"<U{max(int(lengths.max()), 1)}")
    return _hash_code_points(_code_point_matrix(units), lengths)


def _fixed_ascii_matrix(ids: list[str]) -> np.ndarray | None:
    """Return the ids as an (n, width) uint8 matrix if all are ASCII, NUL-free, same length.

    A NUL after each id makes one buffer that reshapes to (n, width + 1) only when every
    id has the same length; the last column must then be all NUL and no other byte NUL.
    """
    width = len(ids[0])
    joined = "\0".join(ids) + "\0"
    if len(joined) != len(ids) * (width + 1) or not joined.isascii():
        return None
    rows = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(ids), width + 1)
    if rows[:, width].any() or not rows[:, :width].all():
        return None
    return rows[:, :width]


def _code_point_matrix(ids: np.ndarray) -> np.ndarray:
    """View a contiguous ``U``/``S`` array as an (n, width) matrix of code points."""
    unit = np.uint32 if ids.dtype.kind == "U" else np.uint8
    width = ids.dtype.itemsize // np.dtype(unit).itemsize
    return ids.view(unit).reshape(len(ids), width)


def _horner31(units: np.ndarray) -> np.ndarray:
    """Return sum(units[:, j] * 31**(width-1-j)) mod 2**32 per row, as uint32."""
    columns = np.ascontiguousarray(units.T)  # contiguous columns: one pass each
    h = np.zeros(units.shape[0], dtype=np.uint32)
    for column in columns:
        h *= np.uint32(31)
        h += column
    return h


def _hash_code_points(units: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Hash right-NUL-padded code points; ``lengths`` counts code points per row.

    Padding multiplies a row's hash by 31 per cell; multiplying by 31**-1 that many times
    undoes it. A non-BMP code point is its surrogate pair folded into one Horner step.
    """
    width = units.shape[1]
    if units.dtype == np.uint32 and (units > 0xFFFF).any():
        h = _horner_with_pairs(units)
    else:
        h = _horner31(units)
    h *= _inverse_powers(width)[width - lengths]
    return h.view(np.int32)


def _horner_with_pairs(units: np.ndarray) -> np.ndarray:
    """Horner over code points where a non-BMP one counts as its two UTF-16 units."""
    columns = np.ascontiguousarray(units.T)  # contiguous columns: one pass each
    astral = columns > 0xFFFF
    offset = columns - np.uint32(0x10000)
    high = np.uint32(0xD800) + (offset >> np.uint32(10))
    low = np.uint32(0xDC00) + (offset & np.uint32(0x3FF))
    addends = np.where(astral, high * np.uint32(31) + low, columns)
    multipliers = np.where(astral, np.uint32(_SURROGATE_PAIR_MULTIPLIER), np.uint32(31))
    h = np.zeros(units.shape[0], dtype=np.uint32)
    for multiplier, addend in zip(multipliers, addends, strict=True):
        h *= multiplier
        h += addend
    return h


def _inverse_powers(width: int) -> np.ndarray:
    """Return 31**-k mod 2**32 for k = 0..width, as uint32."""
    return np.array([pow(_INV31, k, 1 << 32) for k in range(width + 1)], dtype=np.uint32)


# --- what Vite baked into the build -------------------------------------------------


def _js_parse_int(raw: str) -> float:
    """Return JavaScript ``parseInt(raw)`` (no radix): NaN when there are no digits.

    Leading JS whitespace is skipped, one sign is read, ``0x``/``0X`` switches to hex,
    then the longest run of digits is taken and anything after it ignored.
    """
    match = _PARSE_INT.match(raw.lstrip(_JS_WHITESPACE))
    assert match is not None  # every part of the pattern is optional
    sign, hex_prefix, hex_digits, dec_digits = match.groups()
    digits = hex_digits if hex_prefix else dec_digits
    if not digits:
        return math.nan
    try:
        magnitude = float(int(digits, 16 if hex_prefix else 10))
    except OverflowError:
        magnitude = math.inf
    return -magnitude if sign == "-" else magnitude


@dataclass(frozen=True)
class FlagEnv:
    """The ``import.meta.env.VITE_*`` values Vite inlined into one build (None = unset)."""

    feature_enabled_raw: str | None = None
    rollout_percentage_raw: str | None = None

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> FlagEnv:
        """Read the two variables from an environment mapping (missing = unset)."""
        return cls(env.get(INTERNAL_ENV_FLAG), env.get(ROLLOUT_ENV))

    @property
    def feature_enabled(self) -> bool:
        """``VITE_FEATURE_CONTACTS_REDESIGN === 'true'``: only that exact string is on."""
        return self.feature_enabled_raw == "true"

    @property
    def rollout_percentage(self) -> float:
        """``parseInt(VITE_ROLLOUT_PERCENTAGE || '0')``: may be NaN, negative or > 100."""
        return _js_parse_int(self.rollout_percentage_raw or "0")


# --- shouldShowNewContacts, one user ------------------------------------------------


def should_show_new_contacts_internal(
    user_id: str, env: FlagEnv, internal_users: Collection[str]
) -> bool:
    """Phase 1: the env flag is on and the user is on the internal list."""
    return env.feature_enabled and user_id in internal_users


def should_show_new_contacts_percentage(
    user_id: str, env: FlagEnv, internal_users: Collection[str]
) -> bool:
    """Phase 2: env flag on, and the user is internal or ``bucket < parseInt(...)``."""
    if not env.feature_enabled:
        return False
    if user_id in internal_users:
        return True
    return bucket(user_id) < env.rollout_percentage  # False against NaN, as in JS


def should_show_new_contacts_remote(user_id: str, remote_flag: bool | None, env: FlagEnv) -> bool:
    """Remote form: the PostHog flag when defined, else the env flag alone.

    ``user_id`` is what PostHog evaluated ``remote_flag`` for; the fallback ignores it.
    """
    return remote_flag if remote_flag is not None else env.feature_enabled


def should_show_new_contacts(
    mode: FlagMode,
    user_id: str,
    env: FlagEnv,
    internal_users: Collection[str],
    remote_flag: bool | None = None,
) -> bool:
    """Evaluate the form of ``shouldShowNewContacts`` that ``mode`` names.

    Raises ValueError when ``mode`` is not a FlagMode value.
    """
    mode = FlagMode(mode)
    if mode is FlagMode.INTERNAL:
        return should_show_new_contacts_internal(user_id, env, internal_users)
    if mode is FlagMode.PERCENTAGE:
        return should_show_new_contacts_percentage(user_id, env, internal_users)
    return should_show_new_contacts_remote(user_id, remote_flag, env)


# --- shouldShowNewContacts, a whole population --------------------------------------


def evaluate_population(
    mode: FlagMode,
    buckets: np.ndarray,
    is_internal: np.ndarray,
    env: FlagEnv,
    remote: np.ndarray | None = None,
) -> np.ndarray:
    """Return, per user, what ``should_show_new_contacts`` answers, as a bool array.

    ``buckets`` and ``is_internal`` hold each user's bucket and membership of the internal
    list; ``remote`` (REMOTE mode) holds -1 undefined, 0 false or 1 true per user, and
    None means undefined for everyone. Raises ValueError when ``mode`` is not a FlagMode.
    """
    mode = FlagMode(mode)
    is_internal = np.asarray(is_internal, dtype=bool)
    if mode is FlagMode.REMOTE:
        return _evaluate_remote(remote, env, is_internal.shape)
    if not env.feature_enabled:
        return np.zeros(is_internal.shape, dtype=bool)
    if mode is FlagMode.INTERNAL:
        return is_internal.copy()
    return is_internal | (np.asarray(buckets) < env.rollout_percentage)


def _evaluate_remote(remote: np.ndarray | None, env: FlagEnv, shape: tuple[int, ...]) -> np.ndarray:
    """Remote flag where defined, env flag elsewhere."""
    if remote is None:
        return np.full(shape, env.feature_enabled, dtype=bool)
    remote = np.asarray(remote)
    return np.where(remote == REMOTE_UNDEFINED, env.feature_enabled, remote == 1)
