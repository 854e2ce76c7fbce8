"""The learned model's address-density, incidents-per-address and rank features: hand-computed
cases, a brute-force check, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from forecast_events import clustered_events

from hotspots.forecast.exposure import ExposureFeatures
from hotspots.forecast.features import (
    CellContext,
    dynamic_features,
    exposure_rate_features,
    exposure_ring_features,
    rank_features,
)
from hotspots.forecast.harness import History, Horizon, backtest, make_origins, to_days
from hotspots.forecast.methods import LearnedRisk
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _grid():
    return Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100.0)  # 10 x 10 cells of 100 m


def _exposure(grid):
    post = np.zeros(grid.shape)
    post[4, 4] = 3.0
    post[4, 6] = 1.0
    post[0, 0] = 2.0
    homes = np.full(grid.shape, 10.0)
    return ExposureFeatures(
        ("postcodes_per_cell", "postcodes_per_km2_200m", "households_per_cell"), np.stack([post, post * 99.0, homes])
    )


def test_exposure_squares_by_hand():
    grid = _grid()
    names, cols = exposure_ring_features(_exposure(grid), grid, (100.0, 200.0))
    f = dict(zip(names, cols, strict=True))
    # only the "<what>_per_cell" features are summed; the density is not
    assert names == ["postcodes_sq100m", "postcodes_sq200m", "households_sq100m", "households_sq200m"]
    p1, p2 = f["postcodes_sq100m"], f["postcodes_sq200m"]
    assert p1[4, 4] == 3 and p1[4, 5] == 4 and p1[3, 5] == 4 and p1[4, 7] == 1 and p1[4, 8] == 0
    assert p2[4, 4] == 4 and p2[4, 2] == 3 and p2[1, 1] == 2 and p2[2, 8] == 1
    assert p1[0, 0] == 2 and p1[1, 1] == 2 and p1[2, 2] == 0
    assert p2[2, 2] == 5  # at 200 m the square of (2, 2) reaches both (0, 0) and (4, 4)
    h1, h2 = f["households_sq100m"], f["households_sq200m"]
    assert h1[5, 5] == 90 and h1[0, 0] == 40 and h1[0, 5] == 60  # 3 x 3, clipped at the edges
    assert h2[5, 5] == 250 and h2[0, 0] == 90


def test_incidents_per_address_by_hand():
    grid = _grid()
    o = 2000.0
    # cell (row 4, col 4): centre (450, 550); (row 4, col 6): (650, 550)
    x = np.array([450.0, 450.0, 650.0, 50.0])
    y = np.array([550.0, 550.0, 550.0, 950.0])
    t = np.array([o - 730.0, o - 1460.0, o - 10.0, o - 5000.0])
    names, cols = exposure_rate_features(_exposure(grid), grid, x, y, t, o, (100.0,))
    f = dict(zip(names, cols, strict=True))
    assert names == [
        "decayed_per_postcodes_sq0m",
        "decayed_per_postcodes_sq100m",
        "decayed_per_households_sq0m",
        "decayed_per_households_sq100m",
    ]
    w44 = 0.5 + 0.25  # ages of two and four years, half-life two years
    w46 = 0.5 ** (10 / 730)
    assert f["decayed_per_postcodes_sq0m"][4, 4] == pytest.approx(w44 / (1 + 3))
    assert f["decayed_per_postcodes_sq0m"][4, 6] == pytest.approx(w46 / (1 + 1))
    assert f["decayed_per_postcodes_sq0m"][4, 5] == 0
    # the 3 x 3 square around (4, 5) holds both cells: 4 postcodes, both cells' incidents
    assert f["decayed_per_postcodes_sq100m"][4, 5] == pytest.approx((w44 + w46) / (1 + 4))
    assert f["decayed_per_households_sq100m"][5, 5] == pytest.approx((w44 + w46) / (1 + 90))
    assert f["decayed_per_households_sq0m"][0, 0] == pytest.approx(0.5 ** (5000 / 730) / 11)


def test_ranks_by_hand_and_against_brute_force():
    v = np.array([0.0, 2.0, 2.0, 5.0, 0.0, 1.0])
    names, cols = rank_features(["count_365d", "other"], [v, v + 1])
    assert names == ["rank_count_365d"]  # only the long-run counts are ranked
    # two zeros share ranks 1 and 2 (1.5), the twos ranks 4 and 5 (4.5); divided by 6 cells
    assert np.allclose(cols[0], np.array([1.5, 4.5, 4.5, 6, 1.5, 3]) / 6)
    rng = np.random.default_rng(2)
    w = rng.poisson(0.7, 300).astype(float)
    ref = np.array([((w < a).sum() + 0.5 * ((w == a).sum() + 1)) / w.size for a in w])
    assert np.allclose(rank_features(["decayed_count_hl730d"], [w])[1][0], ref)


def _history_pair():
    ev = clustered_events(0, 3000, 900)
    grid = _grid()
    ctx = CellContext(exposure=_exposure(grid))
    o = pd.Timestamp("2022-09-01", tz=TZ)
    past = ev.subset(ev.t_end < to_days(o))
    return History(ev, o, Horizon(14), grid, context=ctx), History(past, o, Horizon(14), grid, context=ctx)


def test_new_features_see_nothing_at_or_after_the_cut_off():
    full, cut = _history_pair()
    kw = dict(exposure_radii_m=(100.0, 400.0), with_exposure_rates=True, with_ranks=True)
    a = dynamic_features(full, **kw)
    b = dynamic_features(cut, **kw)
    assert a[0] == b[0]
    assert np.array_equal(a[1], b[1])
    for prefix in ("postcodes_sq", "households_sq", "decayed_per_", "rank_"):
        assert any(n.startswith(prefix) for n in a[0]), prefix
    # the options only add columns: the default features are unchanged
    base = dynamic_features(cut)
    idx = [a[0].index(n) for n in base[0]]
    assert np.array_equal(a[1][:, idx], base[1])


def test_learned_options_reach_the_model_and_stay_without_look_ahead():
    ev = clustered_events(1, 3000, 900)
    grid = _grid()
    ctx = CellContext(exposure=_exposure(grid))
    origins = make_origins("2022-07-04", "2022-08-01", Horizon(14), TZ)
    kw = dict(n_train_origins=6, with_prospective=False, max_iter=40, min_samples_leaf=20)
    m = LearnedRisk(exposure_radii_m=(200.0,), with_exposure_rates=True, with_ranks=True, **kw)
    res = backtest(ev, grid, {"m": m}, origins, context=ctx, keep_surfaces=True)
    later = ev.subset(ev.t_end < to_days(origins[-1]) + 20)  # nothing beyond the last horizon's start + 20 d
    res2 = backtest(later, grid, {"m": m}, origins[-1:], context=ctx, keep_surfaces=True)
    assert np.array_equal(res.surfaces[(origins[-1], "m")], res2.surfaces[(origins[-1], "m")])
    h = History(ev, origins[-1], Horizon(14), grid, context=ctx)
    fitted = LearnedRisk(exposure_radii_m=(200.0,), with_exposure_rates=True, with_ranks=True, **kw).fit(h)
    assert {"postcodes_sq200m", "decayed_per_postcodes_sq200m", "rank_count_365d"} <= set(fitted.feature_names_)
    off = LearnedRisk(exposure_radii_m=(200.0,), with_exposure_rates=True, with_exposure=False, **kw).fit(h)
    assert not any(n.startswith(("postcodes", "households", "decayed_per_")) for n in off.feature_names_)
    default = LearnedRisk(**kw).fit(h)
    assert not any(n.startswith(("postcodes_sq", "decayed_per_", "rank_")) for n in default.feature_names_)
