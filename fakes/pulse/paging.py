"""Keyset paging over contacts ordered by ``(updated_at, id)``, and its opaque cursor.

A page holds the next ``limit`` contacts whose key is past the cursor's key. Because a
contact updated while a client pages moves to a *larger* key, keyset paging never skips
one: it may only return it again later (at-least-once), which is what an incremental
sync wants. The cursor carries the query (``updated_since``) and the last key returned,
base64url-encoded with a checksum; anything else is rejected with a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from fakes.pulse.errors import InvalidRequest

_MAGIC = b"pulse.cursor.v1:"


@dataclass(frozen=True)
class Cursor:
    """Resume after key ``(after_ms, after_index)`` of the query ``updated_since``."""

    since_ms: int | None
    after_ms: int
    after_index: int


def encode_cursor(cursor: Cursor) -> str:
    payload = json.dumps([1, cursor.since_ms, cursor.after_ms, cursor.after_index],
                         separators=(",", ":")).encode()
    mac = hashlib.sha256(_MAGIC + payload).hexdigest()[:12].encode()
    return base64.urlsafe_b64encode(payload + b"." + mac).rstrip(b"=").decode()


def decode_cursor(text: str) -> Cursor:
    """The cursor ``encode_cursor`` wrote; raises InvalidRequest for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload, _, mac = raw.rpartition(b".")
        if mac != hashlib.sha256(_MAGIC + payload).hexdigest()[:12].encode():
            raise ValueError("checksum mismatch")
        version, since, after_ms, after_index = json.loads(payload)
        if version != 1 or not all(isinstance(v, int) for v in (after_ms, after_index)) \
                or not (since is None or isinstance(since, int)):
            raise ValueError("unexpected cursor fields")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("cursor is not a cursor this API returned; start over without "
                             "one", param="cursor") from exc
    return Cursor(since, after_ms, after_index)


def in_range(updated_ms: np.ndarray, since_ms: int | None,
             after: tuple[int, int] | None, upto: tuple[int, int] | None) -> np.ndarray:
    """Mask of contacts with ``updated_ms >= since`` and ``after < key <= upto``."""
    index = np.arange(updated_ms.size)
    mask = np.ones(updated_ms.size, dtype=bool)
    if since_ms is not None:
        mask &= updated_ms >= since_ms
    if after is not None:
        mask &= (updated_ms > after[0]) | ((updated_ms == after[0]) & (index > after[1]))
    if upto is not None:
        mask &= (updated_ms < upto[0]) | ((updated_ms == upto[0]) & (index <= upto[1]))
    return mask


def select_page(updated_ms: np.ndarray, mask: np.ndarray,
                limit: int) -> tuple[list[int], bool]:
    """The first ``limit`` indices of ``mask`` in key order, and whether more follow."""
    candidates = np.flatnonzero(mask)
    if candidates.size > limit:  # only the smallest limit+1 keys need sorting
        key = updated_ms[candidates] * (updated_ms.size + 1) + candidates
        candidates = candidates[np.argpartition(key, limit)[:limit + 1]]
    ordered = candidates[np.lexsort((candidates, updated_ms[candidates]))]
    return [int(i) for i in ordered[:limit]], bool(ordered.size > limit)
