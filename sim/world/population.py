"""The users of the app: ids, internal staff, activity, and their flag buckets.

Ids are deterministic from the seed (``usr_`` + 12 hex digits, unique by construction:
an odd multiplier is a bijection modulo 2**48). Everything a tick needs per user is a
numpy array, computed once: the runbook's bucket and, on first use per flag key, the
PostHog hash. Faker only names a few sample users for reports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rollout.release.flags import buckets

if TYPE_CHECKING:
    from faker import Faker

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_PREFIX = np.frombuffer(b"usr_", dtype=np.uint8)
ID_BYTES = 16
# From how many draws, over how many users (a cdf past the CPU's L2 cache), sorting the draws
# before the search pays: 2-3x faster on large populations, slower on small ones.
SORTED_SEARCH, SORTED_SEARCH_USERS = 1024, 65536


@dataclass
class Population:
    """Per-user arrays; user ``i`` is row ``i`` everywhere."""

    ids: np.ndarray  # dtype S16
    is_internal: np.ndarray  # bool
    buckets: np.ndarray  # runbook bucket 0..99
    activity_cdf: np.ndarray  # float64, cumulative share of visits
    _posthog: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    def id_of(self, index: int) -> str:
        return self.ids[index].decode("ascii")

    def internal_ids(self) -> list[str]:
        """The ids the app's internal-users list holds."""
        return [self.id_of(int(i)) for i in np.flatnonzero(self.is_internal)]

    def posthog_hashes(self, key: str) -> np.ndarray:
        """PostHog's bucketing hash of every user for flag ``key`` (cached per key)."""
        if key not in self._posthog:
            from fakes.posthog.evaluation import posthog_hashes

            self._posthog[key] = posthog_hashes(key, self.ids)
        return self._posthog[key]

    def sample_visitors(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` user indices drawn by activity (heavy users visit more often)."""
        u = rng.random(count)
        if count < SORTED_SEARCH or self.size < SORTED_SEARCH_USERS:
            picked = np.searchsorted(self.activity_cdf, u, side="right")
        else:  # the same indices: searched in key order, which walks the cdf in cache order
            order = np.argsort(u)
            picked = np.empty(count, dtype=np.intp)
            picked[order] = np.searchsorted(self.activity_cdf, u[order], side="right")
        return np.minimum(picked, self.size - 1)

    def sample_names(self, indices: np.ndarray, seed: int) -> list[dict[str, str]]:
        """Human-readable names for a few users, for reports (Faker, seeded)."""
        fake = _faker()
        fake.seed_instance(seed)  # the same names as a fresh Faker seeded so
        return [{"id": self.id_of(int(i)), "name": fake.name()} for i in indices]


@functools.cache
def _faker() -> Faker:
    """One Faker per process (building one loads its providers: ~8 ms a run)."""
    from faker import Faker

    return Faker()


def build_population(rng: np.random.Generator, users: int, internal: int,
                     activity_sigma: float) -> Population:
    """A population of ``users`` with ``internal`` staff, deterministic from ``rng``."""
    ids = make_ids(rng, users)
    is_internal = np.zeros(users, dtype=bool)
    if internal:
        is_internal[rng.choice(users, size=internal, replace=False)] = True
    weights = rng.lognormal(0.0, activity_sigma, size=users) if activity_sigma else np.ones(users)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return Population(ids, is_internal, buckets(ids), cdf)


def make_ids(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct ``usr_xxxxxxxxxxxx`` ids as an S16 array."""
    modulus = np.uint64(1 << 48)
    multiplier = np.uint64(int(rng.integers(1, 1 << 47)) * 2 + 1)
    offset = np.uint64(int(rng.integers(0, 1 << 48)))
    values = (np.arange(count, dtype=np.uint64) * multiplier + offset) % modulus
    out = np.empty((count, ID_BYTES), dtype=np.uint8)
    out[:, :4] = _PREFIX
    for column, shift in enumerate(range(44, -1, -4), start=4):  # a hex digit at a time
        out[:, column] = _HEX[(values >> np.uint64(shift)) & np.uint64(15)]
    return out.view(f"S{ID_BYTES}").ravel()
