"""Local Knox: brute-force counts, pointpats KnoxLocal, exact hypergeometric null."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.analysis.local_knox import local_knox


def brute(x, y, t, delta, tau):
    d = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    dt = np.abs(t[:, None] - t[None])
    np.fill_diagonal(d, np.inf)
    np.fill_diagonal(dt, np.inf)
    s = d <= delta
    tt = dt <= tau
    return (s & tt).sum(1), s.sum(1), tt.sum(1)


def events(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2000, n)
    y = rng.uniform(0, 2000, n)
    t = rng.integers(0, 90, n).astype(float)
    x[:5] = x[5:10]  # identical locations
    y[:5] = y[5:10]
    x[10] = x[11] + 200.0  # exactly on the threshold (inclusive)
    y[10] = y[11]
    t[10] = t[11] + 14
    return x, y, t


def test_counts_match_brute_force():
    x, y, t = events(400, 0)
    r = local_knox(x, y, t, delta_m=200, tau_days=14, permutations=0)
    nst, ns, nt = brute(x, y, t, 200, 14)
    np.testing.assert_array_equal(r.n_st, nst)
    np.testing.assert_array_equal(r.n_s, ns)
    np.testing.assert_array_equal(r.n_t, nt)
    np.testing.assert_allclose(r.expected, ns * nt / (len(x) - 1))
    assert r.n_st[10] >= 1
    # leads and lags
    d = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    st = (d <= 200) & (np.abs(t[:, None] - t[None]) <= 14)
    np.fill_diagonal(st, False)
    np.testing.assert_array_equal(r.n_after, (st & (t[None] > t[:, None])).sum(1))
    np.testing.assert_array_equal(r.n_before, (st & (t[None] < t[:, None])).sum(1))


def test_chain_starter_found():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 5000, 300)
    y = rng.uniform(0, 5000, 300)
    t = rng.integers(0, 365, 300).astype(float)
    # event 0 is followed by five burglaries within 100 m and 1-5 days
    x[1:6] = x[0] + rng.uniform(-60, 60, 5)
    y[1:6] = y[0] + rng.uniform(-60, 60, 5)
    t[0] = 100.0
    t[1:6] = 100.0 + np.arange(1, 6)
    r = local_knox(x, y, t, delta_m=200, tau_days=14, permutations=499, seed=1)
    assert 0 in r.chain_starters()
    assert not set(range(1, 6)) & set(r.chain_starters())
    assert r.to_frame().loc[0, "starts_chain"]


def test_permutation_p_agrees_with_exact_hypergeometric():
    x, y, t = events(500, 1)
    r = local_knox(x, y, t, delta_m=250, tau_days=10, permutations=999, seed=4)
    p = r.p_hypergeom
    tol = 4 * np.sqrt(p * (1 - p) / 999) + 2 / 1000
    assert np.all(np.abs(r.p_value - p) <= tol)
    # deterministic with a seed
    r2 = local_knox(x, y, t, delta_m=250, tau_days=10, permutations=999, seed=4)
    np.testing.assert_array_equal(r.p_value, r2.p_value)


def test_matches_pointpats_knoxlocal(shared_data):
    from pointpats.spacetime import KnoxLocal

    ev = pd.read_csv(shared_data / "nearrepeat_validation" / "chicago_res_burglary_2016_month1_epsg26971.csv")
    ev = ev.iloc[:300]
    t = ((pd.to_datetime(ev.date) - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float)
    xy = ev[["x", "y"]].to_numpy()
    np.random.seed(0)
    pp = KnoxLocal(xy, t.reshape(-1, 1), delta=200, tau=7, permutations=199)
    r = local_knox(xy[:, 0], xy[:, 1], t, delta_m=200, tau_days=7, permutations=999, seed=0)
    np.testing.assert_array_equal(r.n_st, pp.nsti.astype(int))
    # both permutation p-values estimate the same conditional null (ours: 999, pointpats: 199 draws)
    p = r.p_hypergeom
    tol = 4 * np.sqrt(p * (1 - p) / 199) + 4 * np.sqrt(p * (1 - p) / 999) + 0.011
    assert np.all(np.abs(pp.p_sims - r.p_value) <= tol)
