"""The population: deterministic unique ids, internal users, buckets equal to the scalar ones."""

from __future__ import annotations

import numpy as np

from rollout.release.flags import bucket
from sim.rng import Streams
from sim.world.population import build_population, make_ids


def test_ids_are_unique_and_deterministic_from_the_seed() -> None:
    """Same seed → same ids; different seed → different ids; never a duplicate."""
    a = make_ids(Streams(3).get("population"), 200_000)
    b = make_ids(Streams(3).get("population"), 200_000)
    c = make_ids(Streams(4).get("population"), 200_000)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.unique(a).size == a.size
    assert all(len(x) == 16 and x.startswith(b"usr_") for x in a[:100])


def test_population_buckets_match_the_scalar_bucket() -> None:
    """The vectorized bucket of every user equals rollout.release.flags.bucket of its id."""
    pop = build_population(Streams(1).get("population"), 3000, 10, 1.0)
    assert [bucket(pop.id_of(i)) for i in range(pop.size)] == pop.buckets.tolist()
    assert int(pop.is_internal.sum()) == 10
    assert len(pop.internal_ids()) == 10


def test_heavy_users_visit_more_often() -> None:
    """Visitors are drawn by activity weight: the top decile gets well over 10 % of visits."""
    pop = build_population(Streams(1).get("population"), 10_000, 0, 1.0)
    visits = np.bincount(pop.sample_visitors(np.random.default_rng(0), 200_000),
                         minlength=pop.size)
    weights = np.diff(np.concatenate([[0.0], pop.activity_cdf]))
    top = np.argsort(weights)[-1000:]
    assert visits[top].sum() / visits.sum() > 0.25
