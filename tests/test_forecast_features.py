"""The learned model's multi-scale neighbourhood and recency features and its seed ensemble:
a hand-computed case, no look-ahead, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from forecast_events import clustered_events

from hotspots.forecast.features import RECENCY_CAP_DAYS, block_sum, dynamic_features, ring_features
from hotspots.forecast.harness import History, Horizon, backtest, make_origins, to_days
from hotspots.forecast.methods import LearnedRisk
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _grid(cell_m: float = 100.0):
    return Grid.from_boundary(shapely.box(0, 0, 1000, 1000), cell_m)  # 10 x 10 cells of 100 m by default


def test_ring_features_by_hand():
    grid = _grid()
    o = 1000.0  # the cut-off, days
    # cell centres: column c -> x = 50 + 100 c; row r -> y = 950 - 100 r
    x = np.array([450.0, 450.0, 650.0, 50.0, 850.0])
    y = np.array([550.0, 550.0, 550.0, 950.0, 150.0])
    t = np.array([o - 10, o - 400, o - 100, o - 730, o - 3000])
    names, cols = ring_features(grid, x, y, t, o)
    f = dict(zip(names, cols, strict=True))
    # 200 m on 100 m cells: the 5 x 5 square around each cell; the centre (row 4, col 4) holds two
    # incidents (ages 10 and 400) and (row 4, col 6) one (age 100)
    c = f["ring200m_count_365d"]
    assert c[4, 4] == 2  # itself (age 10) and two cells east (age 100); age 400 is older than a year
    assert c[4, 2] == 1  # two cells west of the centre: only the centre's recent incident
    assert c[4, 6] == 2 and c[4, 7] == 1 and c[4, 8] == 1 and c[4, 9] == 0
    assert f["ring400m_count_365d"][4, 8] == 2  # 9 x 9 reaches four cells west
    d = f["ring200m_decayed_hl730d"]
    w = 0.5 ** (np.array([10, 400, 100]) / 730.0)
    assert d[4, 5] == pytest.approx(w.sum())
    assert d[0, 0] == pytest.approx(0.5)  # the corner incident, 730 days old, alone in its square
    assert d[8, 8] == pytest.approx(0.5 ** (3000 / 730.0))
    # recency
    s = f["days_since_last"]
    assert s[4, 4] == 10 and s[4, 6] == 100 and s[0, 0] == 730 and s[8, 8] == 3000
    assert s[4, 5] == RECENCY_CAP_DAYS and s[9, 9] == RECENCY_CAP_DAYS
    b = f["days_since_last_block3x3"]
    assert b[4, 5] == 10 and b[3, 7] == 100 and b[1, 1] == 730 and b[4, 8] == RECENCY_CAP_DAYS


def test_block_sum_matches_brute_force():
    rng = np.random.default_rng(3)
    a = rng.poisson(1.0, size=(7, 11)).astype(float)
    for half in (0, 1, 2, 4):
        ref = np.zeros_like(a)
        for r in range(7):
            for c in range(11):
                ref[r, c] = a[max(0, r - half) : r + half + 1, max(0, c - half) : c + half + 1].sum()
        assert np.array_equal(block_sum(a, half), ref)


def _events(seed=0, n=3000, days=900):
    return clustered_events(seed, n, days)


def test_ring_features_see_nothing_at_or_after_the_cut_off():
    ev = _events()
    grid = _grid()
    o = pd.Timestamp("2022-09-01", tz=TZ)
    od = to_days(o)
    full = dynamic_features(History(ev, o, Horizon(14), grid), with_rings=True)
    # the same features from a table that never had the later incidents
    past = ev.subset(ev.t_end < od)
    cut = dynamic_features(History(past, o, Horizon(14), grid), with_rings=True)
    assert full[0] == cut[0] and any(n.startswith("ring") for n in full[0])
    assert np.array_equal(full[1], cut[1])


def test_seed_ensemble_is_deterministic_and_averages_its_members():
    ev = _events(seed=1)
    grid = _grid(25.0)  # 1,600 cells x 8 training origins: enough rows for early stopping's random hold-out
    origins = make_origins("2022-07-04", "2022-08-01", Horizon(14), TZ)
    kw = dict(n_train_origins=8, with_prospective=False, with_rings=True, random_state=5)
    one = backtest(ev, grid, {"m": LearnedRisk(n_seeds=3, **kw)}, origins, keep_surfaces=True)
    two = backtest(ev, grid, {"m": LearnedRisk(n_seeds=3, **kw)}, origins, keep_surfaces=True)
    for o in origins:
        assert np.array_equal(one.surfaces[(o, "m")], two.surfaces[(o, "m")])
    # the ensemble is the mean of the single models with seeds 5, 6, 7
    o = origins[-1]
    h = History(ev, o, Horizon(14), grid)
    members = []
    for s in (5, 6, 7):
        m = LearnedRisk(n_seeds=1, **{**kw, "random_state": s}).fit(h)
        members.append(m.predict(o, Horizon(14))[grid.mask])
    ens = LearnedRisk(n_seeds=3, **kw).fit(h).predict(o, Horizon(14))[grid.mask]
    assert np.allclose(ens, np.mean(members, axis=0), rtol=1e-12, atol=0)
    assert not np.array_equal(members[0], members[1])  # the seeds differ (early stopping's hold-out)
