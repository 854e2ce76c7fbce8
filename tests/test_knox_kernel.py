"""The one Knox permutation loop (analysis._nearrepeat_kernels.knox_counts): its two temporal-band
look-ups agree, and every permutation equals a brute-force count of the permuted times."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from hotspots.analysis import _nearrepeat_kernels as K


@njit
def _shuffled_times(t, permutations, seed):
    """The permutations knox_counts draws: the same seeded shuffles of the same array."""
    np.random.seed(seed)
    tp = t.copy()
    out = np.empty((permutations, t.shape[0]))
    for r in range(permutations):
        np.random.shuffle(tp)
        out[r] = tp
    return out


def brute_counts(pi, pj, cell, t, tedges, closed, ncells):
    out = np.zeros(ncells, dtype=np.int64)
    for a, b, c in zip(pi, pj, cell, strict=True):
        dt = abs(t[a] - t[b])
        band = int(np.sum(tedges < dt)) if closed else int(np.sum(tedges <= dt))
        out[c + band] += 1
    return out


def planted_pairs(n, seed, whole_days):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 60, n).astype(float) if whole_days else rng.uniform(0, 60, n)
    pi, pj = np.triu_indices(n, 1)
    keep = rng.uniform(size=pi.size) < 0.3
    pi, pj = pi[keep].astype(np.int32), pj[keep].astype(np.int32)
    S, T = 3, 4
    cell = (rng.integers(0, S + 1, pi.size) * (T + 1)).astype(np.int32)
    return pi, pj, cell, t, np.arange(1, T + 1, dtype=np.float64) * 7.0, (S + 1) * (T + 1)


@pytest.mark.parametrize("closed", [True, False])
@pytest.mark.parametrize("whole_days", [True, False])
def test_every_permutation_equals_brute_force(closed, whole_days):
    pi, pj, cell, t, tedges, ncells = planted_pairs(40, 3, whole_days)
    empty = np.zeros(0, dtype=np.int64)
    obs, sims = K.knox_counts(pi, pj, cell, t, tedges, closed, empty, ncells, 25, 11)
    assert np.array_equal(obs, brute_counts(pi, pj, cell, t, tedges, closed, ncells))
    for r, tp in enumerate(_shuffled_times(t, 25, 11)):
        assert np.array_equal(sims[r], brute_counts(pi, pj, cell, tp, tedges, closed, ncells)), r
    assert np.all(sims.sum(axis=1) == pi.size)


@pytest.mark.parametrize("closed", [True, False])
def test_whole_day_lookup_table_equals_band_search(closed):
    pi, pj, cell, t, tedges, ncells = planted_pairs(50, 5, whole_days=True)
    cap = int(np.ceil(tedges[-1])) + 1
    lut = np.array([K.band_index(float(v), tedges, closed) for v in range(cap + 1)], dtype=np.int64)
    a = K.knox_counts(pi, pj, cell, t, tedges, closed, lut, ncells, 50, 2)
    b = K.knox_counts(pi, pj, cell, t, tedges, closed, np.zeros(0, dtype=np.int64), ncells, 50, 2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    # the last table entry serves every larger difference
    far = np.zeros(len(tedges) + 1, dtype=np.int64)
    K.count_pairs(
        far,
        np.array([0], np.int32),
        np.array([1], np.int32),
        np.array([0], np.int32),
        np.array([0.0, 1000.0]),
        tedges,
        closed,
        lut,
    )
    assert far[-1] == 1 and K.band_index(1000.0, tedges, closed) == len(tedges)
