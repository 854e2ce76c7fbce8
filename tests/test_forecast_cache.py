"""Caches keyed on the data: features follow the incidents, a blend reuses its components' fits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely
from forecast_events import clustered_events

from hotspots.forecast.cache_key import digest, method_key, row_hashes
from hotspots.forecast.features import dynamic_features
from hotspots.forecast.harness import History, Horizon, backtest, make_origins
from hotspots.forecast.methods import Blend, DecayedKDE, LearnedRisk, NaiveCounts
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _events(seed=0, n=3000, days=900):
    ev = clustered_events(seed, n, days, hot=(300, 450, 550, 700), start="2021-06-01")
    return ev, Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)


def test_digest_identifies_the_data():
    a = np.arange(10.0)
    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    k = digest(a, grid, {"w": 3, "r": (1.0, 2.0)}, "x", None)
    assert k == digest(
        a.copy(), Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100), {"r": (1.0, 2.0), "w": 3}, "x", None
    )
    b = a.copy()
    b[7] += 1e-9
    assert digest(b, grid, {"w": 3, "r": (1.0, 2.0)}, "x", None) != k
    assert digest(a.astype(np.float32), grid, {"w": 3, "r": (1.0, 2.0)}, "x", None) != k
    g2 = dataclasses.replace(grid, mask=grid.mask.copy())
    g2.mask[0, 0] = False
    assert digest(a, g2, {"w": 3, "r": (1.0, 2.0)}, "x", None) != k
    assert digest(a, grid, {"w": 3, "r": (1.0, 2.5)}, "x", None) != k
    # estimators are keyed by class and parameters, nested ones included
    assert digest(method_key(Blend((NaiveCounts(91),), (1.0,)))) == digest(
        method_key(Blend((NaiveCounts(91),), (1.0,)))
    )
    assert digest(method_key(Blend((NaiveCounts(91),), (1.0,)))) != digest(
        method_key(Blend((NaiveCounts(92),), (1.0,)))
    )
    with pytest.raises(TypeError, match="cannot key"):
        digest(object())


def test_feature_cache_follows_the_data_not_just_the_date():
    ev, grid = _events()
    o = pd.Timestamp("2023-09-01", tz=TZ)
    cache: dict = {}
    _names, full = dynamic_features(History(ev, o, Horizon(14), grid, cache=cache), with_prospective=False)
    # half the incidents, the same cache and cut-off: the features must be those of the half
    half = ev.subset(np.arange(len(ev)) % 2 == 0)
    _n, got = dynamic_features(History(half, o, Horizon(14), grid, cache=cache), with_prospective=False)
    _n, fresh = dynamic_features(History(half, o, Horizon(14), grid, cache={}), with_prospective=False)
    np.testing.assert_array_equal(got, fresh)
    assert not np.array_equal(got, full)
    # one incident moved to another cell: the features change, and equal a fresh computation
    i = int(np.flatnonzero(ev.t_end < (o - pd.Timestamp("1970-01-01", tz="UTC")).days - 30)[0])
    x2 = ev.x.copy()
    x2[i] = 950.0 if ev.x[i] < 500 else 50.0
    moved = dataclasses.replace(ev, x=x2)
    _n, got2 = dynamic_features(History(moved, o, Horizon(14), grid, cache=cache), with_prospective=False)
    _n, fresh2 = dynamic_features(History(moved, o, Horizon(14), grid, cache={}), with_prospective=False)
    np.testing.assert_array_equal(got2, fresh2)
    assert not np.array_equal(got2, full)
    # the unchanged data still finds its own entry (the very array computed first)
    _n, again = dynamic_features(History(ev, o, Horizon(14), grid, cache=cache), with_prospective=False)
    assert again is full


def test_blend_reuses_the_learned_fit_with_identical_surfaces_and_scores(monkeypatch):
    ev, grid = _events(seed=3)
    learned = LearnedRisk(n_train_origins=4, max_iter=30, with_prospective=False)
    methods = {
        "learned": learned,
        "decayed": DecayedKDE(radius_m=0.0, half_life_days=365.0),
        "blend": Blend(methods=(learned, DecayedKDE(radius_m=0.0, half_life_days=365.0)), weights=(0.5, 0.5)),
    }
    origins = make_origins("2023-06-05", "2023-07-31", Horizon(14), TZ)
    fits = {"n": 0}
    real_fit = LearnedRisk.fit

    def counting_fit(self, history):
        fits["n"] += 1
        return real_fit(self, history)

    monkeypatch.setattr(LearnedRisk, "fit", counting_fit)
    refit = backtest(ev, grid, methods, origins, reuse_fits=False, keep_surfaces=True)
    n_refit = fits["n"]
    fits["n"] = 0
    reuse = backtest(ev, grid, methods, origins, reuse_fits=True, keep_surfaces=True)
    n_reuse = fits["n"]
    assert n_refit == 2 * len(origins) and n_reuse == len(origins)
    for key, surf in refit.surfaces.items():
        np.testing.assert_array_equal(reuse.surfaces[key], surf)
    cols = [c for c in refit.scores.columns if c != "fit_s"]
    pd.testing.assert_frame_equal(reuse.scores[cols], refit.scores[cols])
    # score_surface scores a kept surface exactly as the backtest did
    o = origins[2]
    sc = reuse.score_surface(o, reuse.surfaces[(o, "blend")])
    row = reuse.scores[(reuse.scores["origin"] == o) & (reuse.scores["method"] == "blend")].iloc[0]
    assert sc["hit_rate_5"] == row["hit_rate_5"] and sc["info_gain"] == row["info_gain"]


def test_row_hashes_follow_every_value_and_survive_subsetting():
    rng = np.random.default_rng(5)
    n = 500
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    ward = np.array([f"E0500{i % 7}" for i in range(n)], dtype=object)
    ward[3] = None
    base = row_hashes(x, y, ward)
    assert base.dtype == np.uint64 and len(np.unique(base)) == n
    # any one value of any one row changes that row's hash and no other
    for which in range(3):
        cols = [x, y, ward]
        cols[which] = cols[which].copy()
        cols[which][42] = cols[which][41]
        h = row_hashes(*cols)
        assert h[42] != base[42]
        assert np.array_equal(np.delete(h, 42), np.delete(base, 42))
    # a row's hash depends on that row alone: a subset keeps its rows' hashes
    keep = rng.random(n) < 0.3
    assert np.array_equal(row_hashes(x[keep], y[keep], ward[keep]), base[keep])
    # the columns' order and a missing column count
    assert not np.array_equal(row_hashes(y, x, ward), base)
    assert not np.array_equal(row_hashes(x, y, None), base)


def test_a_cut_off_has_the_same_key_however_it_was_reached():
    ev, grid = _events(seed=2)
    ev = dataclasses.replace(ev, ward=np.array([f"W{i % 5}" for i in range(len(ev))], dtype=object))
    o = pd.Timestamp("2023-09-01", tz=TZ)
    cut = pd.Timestamp("2023-05-01", tz=TZ)
    late = History(ev, o, Horizon(14), grid)
    late.data_key()  # the row hashes are kept and handed to until()
    direct = History(ev, cut, Horizon(14), grid).data_key()
    assert late.until(cut).data_key() == direct
    assert History(ev, cut, Horizon(14), grid).until(cut).data_key() == direct
    # one incident known at the cut-off, moved by a millimetre: another key
    i = int(np.flatnonzero(ev.t_end < late.until(cut).origin_day)[0])
    x2 = ev.x.copy()
    x2[i] += 1e-3
    assert History(dataclasses.replace(ev, x=x2), o, Horizon(14), grid).until(cut).data_key() != direct
    # its ward changed: another key too
    w2 = ev.ward.copy()
    w2[i] = "W9"
    assert History(dataclasses.replace(ev, ward=w2), cut, Horizon(14), grid).data_key() != direct
    # an incident only known after the cut-off does not change the cut-off's key
    j = int(np.flatnonzero(ev.t_end >= late.until(cut).origin_day)[0])
    x3 = ev.x.copy()
    x3[j] += 5.0
    assert History(dataclasses.replace(ev, x=x3), o, Horizon(14), grid).until(cut).data_key() == direct
