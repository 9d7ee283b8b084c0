"""Print ns/id for the runbook's hashCode: scalar vs numpy, fixed-length and mixed ids.

Run: ``python bench/bench_flags.py``. Each figure is the median of 5 runs
(time.perf_counter). Fixed-length ids are the simulation's ``usr_`` + 12 hex digits;
mixed ids mix ASCII, Latin, CJK, emoji (surrogate pairs) and NULs, of 0-23 characters.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from rollout.release.flags import buckets, hash_code, hash_codes

REPEATS = 5
FIXED_COUNT = 1_000_000
MIXED_COUNT = 100_000
_ALPHABETS = [(0x20, 0x7F), (0xA0, 0x250), (0x4E00, 0xA000), (0x1F300, 0x1FB00), (0, 2)]


def fixed_ids(rng: np.random.Generator, n: int) -> list[str]:
    """``usr_`` + 12 hex digits, as the simulation makes them."""
    return [f"usr_{x:012x}" for x in rng.integers(0, 2**48, size=n).tolist()]


def mixed_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Ids of 0-23 characters drawn from several scripts, emoji included."""
    lengths = rng.integers(0, 24, size=n)
    scripts = rng.integers(0, len(_ALPHABETS), size=int(lengths.sum()))
    lows = np.array([a for a, _ in _ALPHABETS])[scripts]
    highs = np.array([b for _, b in _ALPHABETS])[scripts]
    chars = "".join(map(chr, rng.integers(lows, highs).tolist()))
    ends = np.cumsum(lengths).tolist()
    return [chars[end - k : end] for end, k in zip(ends, lengths.tolist(), strict=True)]


def median_ns_per_id(work: Callable[[], object], count: int) -> float:
    """Median wall time of ``REPEATS`` calls of ``work``, in ns per id."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / count * 1e9


def report(label: str, work: Callable[[], object], count: int) -> None:
    """Print one benchmark line."""
    print(f"{label:<48} {median_ns_per_id(work, count):9.1f} ns/id")


def main() -> None:
    """Run every benchmark and print its figure."""
    rng = np.random.default_rng(2024)
    fixed = fixed_ids(rng, FIXED_COUNT)
    fixed_s = np.array([s.encode("ascii") for s in fixed])
    mixed = mixed_ids(rng, MIXED_COUNT)
    mixed_u = np.array(mixed)
    print(f"{FIXED_COUNT:,} fixed-length ids, {MIXED_COUNT:,} mixed unicode ids, median of 5")
    report(
        "scalar hash_code, fixed (list comprehension)",
        lambda: list(map(hash_code, fixed)),
        FIXED_COUNT,
    )
    report("hash_codes, fixed, list[str]", lambda: hash_codes(fixed), FIXED_COUNT)
    report("buckets, fixed, list[str]", lambda: buckets(fixed), FIXED_COUNT)
    report("hash_codes, fixed, S16 array", lambda: hash_codes(fixed_s), FIXED_COUNT)
    report("scalar hash_code, mixed", lambda: list(map(hash_code, mixed)), MIXED_COUNT)
    report("hash_codes, mixed, list[str]", lambda: hash_codes(mixed), MIXED_COUNT)
    report("hash_codes, mixed, U array", lambda: hash_codes(mixed_u), MIXED_COUNT)
    report("buckets, mixed, list[str]", lambda: buckets(mixed), MIXED_COUNT)


if __name__ == "__main__":
    main()
