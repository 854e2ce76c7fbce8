"""The one Gi* z formula (analysis._kernels.gistar_z): a hand-computed case, brute force on random
neighbourhoods, and both users (Gi* surfaces and the space-time cube) computing through it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hotspots.analysis import _kernels, _trends_kernels
from hotspots.analysis.neighbours import grid_neighbours


def test_hand_computed_line_of_three():
    # sites 0 - 1 - 2 in a line, y = 1, 2, 3: mean 2, population variance 2/3
    y = np.array([1.0, 2.0, 3.0])
    ip = np.array([0, 1, 3, 4], dtype=np.int64)
    ix = np.array([1, 0, 2, 1], dtype=np.int64)
    sd = math.sqrt(2.0 / 3.0)
    s, w, z = _kernels.gistar_z(y, ip, ix, 1.0, 2.0, sd, 3)
    assert s.tolist() == [3.0, 6.0, 5.0] and w.tolist() == [2.0, 3.0, 2.0]
    # site 0: (3 - 2*2) / (sd * sqrt((3*2 - 4) / 2)) = -1/sd; site 1's window is every site: undefined
    assert z[0] == pytest.approx(-math.sqrt(1.5), rel=1e-14)
    assert np.isnan(z[1])
    assert z[2] == pytest.approx(math.sqrt(1.5), rel=1e-14)
    G, z2, p, wsum = _kernels.gistar_analytic(y, ip, ix)
    assert wsum.tolist() == [2.0, 3.0, 2.0]
    np.testing.assert_allclose(G, [0.5, 1.0, 5 / 6], rtol=1e-15)
    np.testing.assert_allclose(z2, z, rtol=1e-14)
    assert p[0] == pytest.approx(math.erfc(math.sqrt(1.5) / math.sqrt(2)), rel=1e-14) and np.isnan(p[1])
    # no variance: z undefined everywhere
    assert np.isnan(_kernels.gistar_analytic(np.ones(3), ip, ix)[1]).all()


def test_random_neighbourhoods_against_the_formula():
    rng = np.random.default_rng(21)
    n = 60
    # a random symmetric neighbourhood, self excluded
    a = np.triu(rng.uniform(size=(n, n)) < 0.08, 1)
    a = a | a.T
    ip = np.concatenate([[0], np.cumsum(a.sum(axis=1))]).astype(np.int64)
    ix = np.nonzero(a)[1].astype(np.int64)
    for layers, nobs in ((1.0, n), (3.0, 5 * n)):
        v = rng.gamma(2.0, 2.0, n)
        mean, sd = 3.7, 1.9
        s, w, z = _kernels.gistar_z(v, ip, ix, layers, mean, sd, nobs)
        for i in range(n):
            win = [i, *np.nonzero(a[i])[0].tolist()]
            S = v[win].sum()
            W = layers * len(win)
            assert s[i] == pytest.approx(S, rel=1e-13) and w[i] == W
            want = (S - mean * W) / (sd * math.sqrt((nobs * W - W * W) / (nobs - 1)))
            assert z[i] == pytest.approx(want, rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("lags", [0, 1, 3])
def test_space_time_cube_is_the_formula_on_lag_sums(lags):
    """Each step of the cube is gistar_z on the per-cell sums of the lagged steps."""
    rng = np.random.default_rng(lags)
    mask = np.ones((5, 6), dtype=bool)
    mask[2, 2] = False
    ip, ix = grid_neighbours(mask)
    T, N = 7, int(mask.sum())
    cube = rng.poisson(1.1, (T, N)).astype(float)
    z, w = _trends_kernels.spacetime_gistar(cube, ip, ix, lags)
    mean, sd = cube.mean(), cube.std()
    for t in range(T):
        t0 = max(0, t - lags)
        _s, wt, zt = _kernels.gistar_z(cube[t0 : t + 1].sum(axis=0), ip, ix, float(t - t0 + 1), mean, sd, T * N)
        np.testing.assert_allclose(z[t], zt, rtol=1e-12, atol=1e-13)
        np.testing.assert_array_equal(w[t], wt)
    # a cube with no variance: z = 0 (documented), never NaN
    z0, _ = _trends_kernels.spacetime_gistar(np.ones((T, N)), ip, ix, lags)
    assert np.all(z0 == 0.0)


def test_one_formula_module():
    """The space-time kernel calls the surfaces' Gi* formula rather than its own copy."""
    assert _trends_kernels.gistar_z is _kernels.gistar_z
