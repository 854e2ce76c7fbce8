"""The learned model's refit cadence: a fit made at a fixed calendar date is reused at the origins up
to the next one (features recomputed at each), kept on disk for the next meeting, never stale."""

from __future__ import annotations

import dataclasses
import importlib
import io
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from test_forecast_store import ORIGINS, TZ, _events, _same

from hotspots.forecast.harness import History, Horizon, backtest, fit_cadence, refit_origin, to_days
from hotspots.forecast.methods import REFIT_EVERY, Blend, DecayedKDE, LearnedRisk, NaiveCounts, make_method
from hotspots.forecast.store import PersistentCache
from hotspots.forecast.trees import FittedModels, from_sklearn

methods_mod = importlib.import_module("hotspots.forecast.methods")
harness = importlib.import_module("hotspots.forecast.harness")
H14 = Horizon(14)
K = 3


def _learned(every=K):
    return LearnedRisk(n_train_origins=3, max_iter=20, with_prospective=False, refit_every=every)


def _methods(every=K):
    learned = _learned(every)
    return {
        "naive": NaiveCounts(window_days=365.0),
        "learned": learned,
        "blend": Blend(methods=(learned, DecayedKDE(radius_m=0.0, half_life_days=365.0)), weights=(0.5, 0.5)),
    }


@pytest.fixture
def boosting_fits(monkeypatch):
    """Counts the gradient-boosting fits (a model loaded from the cache is not a fit)."""
    count = {"n": 0}
    real = HistGradientBoostingRegressor

    class Counting(real):  # type: ignore[misc, valid-type]
        def fit(self, X, y, *a, **k):
            count["n"] += 1
            return super().fit(X, y, *a, **k)

    monkeypatch.setattr(methods_mod, "HistGradientBoostingRegressor", Counting)
    return count


# --------------------------------------------------------------------------- the trees as arrays
def test_tree_arrays_predict_exactly_as_scikit_learn_and_survive_the_disk():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12_000, 6))
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values take the side each split learned
    y = rng.poisson(np.exp(0.4 * np.nan_to_num(X[:, 0]) - 0.2 * np.nan_to_num(X[:, 1]) ** 2))
    model = HistGradientBoostingRegressor(loss="poisson", max_iter=60, max_leaf_nodes=15, random_state=0).fit(X, y)
    Xt = rng.normal(size=(3_000, 6))
    Xt[rng.random(Xt.shape) < 0.05] = np.nan
    trees = from_sklearn(model)
    assert trees.n_trees == model.n_iter_
    np.testing.assert_array_equal(trees.predict(Xt), model.predict(Xt))  # bit for bit
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **FittedModels((trees, trees), 99).to_arrays())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        back = FittedModels.from_arrays(z)
    assert back.n_train_rows == 99 and len(back.ensembles) == 2
    np.testing.assert_array_equal(back.ensembles[1].predict(Xt), model.predict(Xt))


# --------------------------------------------------------------------------- refit dates
def test_refit_dates_are_fixed_calendar_dates_never_after_the_origin():
    month = Horizon(days=0, months=1)
    ts = lambda s: pd.Timestamp(s, tz=TZ)  # noqa: E731
    # months since 1970-01: 2023-05 is month 640, 640 % 3 = 1, so the refit month is 639 = 2023-04
    assert refit_origin(ts("2023-05-01"), month, 3) == ts("2023-04-01")
    assert refit_origin(ts("2023-05-15"), month, 3) == ts("2023-04-01")
    assert refit_origin(ts("2023-04-01"), month, 3) == ts("2023-04-01")
    assert refit_origin(ts("2023-06-30"), month, 3) == ts("2023-04-01")
    assert refit_origin(ts("2023-07-01"), month, 3) == ts("2023-07-01")
    # fortnights: 2023-03-06 is day 19,422 since 1970-01-01 = 1,387 fortnights + 4 days;
    # 1,387 % 3 = 1, so the refit date is day 1,386 x 14 + 4 = 19,408 = 2023-02-20
    assert refit_origin(ts("2023-03-06"), H14, 3) == ts("2023-02-20")
    assert refit_origin(ts("2023-03-20"), H14, 3) == ts("2023-02-20")
    assert refit_origin(ts("2023-04-03"), H14, 3) == ts("2023-04-03")
    assert refit_origin(ts("2023-05-01"), H14, 3) == ts("2023-04-03")
    # every: 1 is the origin itself, whatever it is
    assert refit_origin(ts("2023-05-17"), H14, 1) == ts("2023-05-17")
    # the refit dates of a backtest's origins are among its origins (one horizon apart), and the
    # same for a later meeting's backtest, whatever the meeting date's phase
    for start in ("2023-01-02", "2023-01-05", "2023-01-13"):
        origins = [ts(start) + pd.DateOffset(days=14 * i) for i in range(12)]
        refits = {refit_origin(o, H14, 4) for o in origins}
        assert all(r <= o for r, o in zip(map(lambda o: refit_origin(o, H14, 4), origins), origins, strict=True))
        assert refits - {refit_origin(origins[0], H14, 4)} <= set(origins)
        assert len(refits) in (3, 4)


def test_fit_cadence_finds_the_cadence_inside_blends_and_relocation(monkeypatch):
    assert fit_cadence(NaiveCounts()) == 1
    assert fit_cadence(_methods()["blend"]) == K
    # the named candidates: no cadence by default (REFIT_EVERY is empty), one when configured
    assert REFIT_EVERY == {}
    assert fit_cadence(make_method("blend+relocated", precision="month")) == 1
    assert fit_cadence(make_method("blend", precision="minute")) == 1
    monkeypatch.setitem(REFIT_EVERY, "month", 4)
    assert fit_cadence(make_method("blend+relocated", precision="month")) == 4
    assert fit_cadence(make_method("learned", precision="day")) == 1
    assert fit_cadence(make_method("longrun_counts+relocated", precision="month")) == 1


# --------------------------------------------------------------------------- the model it reuses
def test_a_cadenced_model_is_the_one_fitted_at_its_refit_date(boosting_fits):
    ev, grid = _events()
    o = ORIGINS[1]  # 2023-03-20: refit date 2023-02-20
    r = refit_origin(o, H14, K)
    assert r < o
    cadenced = _learned().fit(History(ev, o, H14, grid))
    at_r = _learned(1).fit(History(ev, r, H14, grid))
    every = _learned(1).fit(History(ev, o, H14, grid))
    for a, b in zip(cadenced.fitted_.ensembles, at_r.fitted_.ensembles, strict=True):
        for f in ("value", "feature", "threshold", "left", "right", "starts"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    # the features are the origin's own: the model of the refit date applied to them
    np.testing.assert_array_equal(cadenced.X_now_, every.X_now_)
    risk = cadenced.predict(o)
    np.testing.assert_array_equal(risk[grid.mask], at_r.model_.predict(every.X_now_))
    assert not np.array_equal(risk, every.predict(o))  # not the model refitted at the origin
    # an incident that became known between the refit date and the origin changes the features,
    # not the model (its labels end at the refit date)
    i = int(np.flatnonzero((ev.t_end >= to_days(r)) & (ev.t_end < to_days(o)))[0])
    x2 = ev.x.copy()
    x2[i] = 950.0 if ev.x[i] < 500 else 50.0
    moved = _learned().fit(History(dataclasses.replace(ev, x=x2), o, H14, grid))
    np.testing.assert_array_equal(moved.fitted_.ensembles[0].value, cadenced.fitted_.ensembles[0].value)
    assert not np.array_equal(moved.X_now_, cadenced.X_now_)


def test_a_cadenced_backtest_sees_nothing_at_or_after_each_origin():
    ev, grid = _events(seed=2)
    full = backtest(ev, grid, _methods(), ORIGINS, H14, keep_surfaces=True)
    for o in ORIGINS:  # each origin's surface from a table that never had the later incidents
        cut = backtest(ev.subset(ev.t_end < to_days(o)), grid, _methods(), [o], H14, keep_surfaces=True)
        for name in ("learned", "blend"):
            np.testing.assert_array_equal(full.surfaces[(o, name)], cut.surfaces[(o, name)])


# --------------------------------------------------------------------------- between meetings
def test_the_next_meeting_fits_only_when_a_refit_date_has_arrived(tmp_path, boosting_fits):
    ev, grid = _events()
    refits = {refit_origin(o, H14, K) for o in ORIGINS[:-1]}
    cold = backtest(ev, grid, _methods(), ORIGINS[:-1], H14, cache=PersistentCache(tmp_path), keep_surfaces=True)
    assert boosting_fits["n"] == len(refits) == 2  # 2023-02-20 and 2023-04-03, not one per origin
    # a fortnight later, a new run: the fits of the last one are loaded, none is made
    boosting_fits["n"] = 0
    warm_cache = PersistentCache(tmp_path)
    nxt = backtest(ev, grid, _methods(), ORIGINS[1:], H14, cache=warm_cache, keep_surfaces=True)
    assert refit_origin(ORIGINS[-1], H14, K) in refits and boosting_fits["n"] == 0
    fresh = backtest(ev, grid, _methods(), ORIGINS[1:], H14, keep_surfaces=True)
    _same(fresh, nxt)  # the same surfaces and scores as a run without the cache
    for o in ORIGINS[1:-1]:
        np.testing.assert_array_equal(cold.surfaces[(o, "learned")], nxt.surfaces[(o, "learned")])
    # at the next refit date (2023-05-15) one new fit
    boosting_fits["n"] = 0
    later = ORIGINS[-1] + pd.DateOffset(days=14)
    assert refit_origin(later, H14, K) == later
    backtest(ev, grid, _methods(), [*ORIGINS[2:], later], H14, cache=PersistentCache(tmp_path))
    assert boosting_fits["n"] == 1


def test_one_changed_incident_refits_the_models_that_knew_it(tmp_path, boosting_fits):
    ev, grid = _events(seed=1)
    backtest(ev, grid, _methods(), ORIGINS, H14, cache=PersistentCache(tmp_path))
    # move one incident known at the second refit date (2023-04-03) but not at the first (2023-02-20)
    r1, r2 = sorted({refit_origin(o, H14, K) for o in ORIGINS})
    i = int(np.flatnonzero((ev.t_end >= to_days(r1)) & (ev.t_end < to_days(r2)))[0])
    x2 = ev.x.copy()
    x2[i] = 950.0 if ev.x[i] < 500 else 50.0
    moved = dataclasses.replace(ev, x=x2)
    boosting_fits["n"] = 0
    warm = backtest(moved, grid, _methods(), ORIGINS, H14, cache=PersistentCache(tmp_path), keep_surfaces=True)
    assert boosting_fits["n"] == 1  # the model of 2023-04-03 only
    fresh = backtest(moved, grid, _methods(), ORIGINS, H14, keep_surfaces=True)
    _same(fresh, warm)  # never the old data's fits
    before = backtest(ev, grid, _methods(), ORIGINS, H14, keep_surfaces=True)
    assert not np.array_equal(before.surfaces[(ORIGINS[-1], "learned")], warm.surfaces[(ORIGINS[-1], "learned")])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="side-by-side work needs fork (POSIX)")
def test_workers_fit_each_refit_date_once_and_give_the_serial_result(tmp_path, boosting_fits):
    ev, grid = _events()
    serial = backtest(ev, grid, _methods(), ORIGINS, H14, keep_surfaces=True, workers=1)
    assert boosting_fits["n"] == 2
    cache: dict = {}
    side = backtest(ev, grid, _methods(), ORIGINS, H14, keep_surfaces=True, workers=2, cache=cache)
    _same(serial, side)
    # the models fitted in the workers reached the parent's cache: a forecast after a backtest of the
    # earlier origins (the meeting one horizon after the last) fits nothing
    cache = {}
    backtest(ev, grid, _methods(), ORIGINS[:-1], H14, workers=2, cache=cache)
    boosting_fits["n"] = 0
    after = _learned().fit(History(ev, ORIGINS[-1], H14, grid, cache=cache))
    assert refit_origin(ORIGINS[-1], H14, K) < ORIGINS[-2]
    assert boosting_fits["n"] == 0 and after.model_ is not None
