"""Randomness for a run: one seed, one independent ``numpy.random.Generator`` per name.

Streams are derived from the seed and the stream's *name* (through a stable hash, never
Python's ``hash``), so adding a consumer never shifts another consumer's draws and the
same seed gives the same numbers in any process under any PYTHONHASHSEED.
"""

from __future__ import annotations

import hashlib

import numpy as np


class Streams:
    """Named child generators of one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._made: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same object on every call in a run."""
        if name not in self._made:
            self._made[name] = np.random.default_rng(_seed_sequence(self.seed, name))
        return self._made[name]


def _seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.SeedSequence([seed, *words])
