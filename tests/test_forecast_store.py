"""Forecast fits kept between runs: reused only for the same data, settings and code, never stale."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import shapely

from hotspots.forecast.harness import EventTable, Horizon, backtest, make_origins, to_days
from hotspots.forecast.methods import Blend, DecayedKDE, LearnedRisk, NaiveCounts
from hotspots.forecast.store import PersistentCache, code_fingerprint
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _events(seed=0, n=2500, days=800):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1000, n)
    y = rng.uniform(0, 1000, n)
    hot = rng.random(n) < 0.25
    x[hot] = rng.uniform(300, 450, hot.sum())
    y[hot] = rng.uniform(550, 700, hot.sum())
    dates = pd.Timestamp("2021-06-01") + pd.to_timedelta(rng.integers(0, days, n), unit="D")
    return EventTable.from_dates(x, y, dates), Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)


def _methods(window_days=365.0):
    learned = LearnedRisk(n_train_origins=3, max_iter=20, with_prospective=False)
    decayed = DecayedKDE(radius_m=0.0, half_life_days=365.0)
    return {
        "naive": NaiveCounts(window_days=window_days),
        "learned": learned,
        "blend": Blend(methods=(learned, decayed), weights=(0.5, 0.5)),
    }


ORIGINS = make_origins("2023-03-06", "2023-05-01", Horizon(14), TZ)


def _run(ev, grid, folder=None, methods=None):
    cache = PersistentCache(folder) if folder is not None else {}
    return backtest(ev, grid, methods or _methods(), ORIGINS, Horizon(14), cache=cache, keep_surfaces=True)


def _same(a, b):
    cols = [c for c in a.scores.columns if c != "fit_s"]
    pd.testing.assert_frame_equal(a.scores[cols], b.scores[cols])
    pd.testing.assert_frame_equal(a.curves, b.curves)
    assert a.surfaces.keys() == b.surfaces.keys()
    for k, s in a.surfaces.items():
        np.testing.assert_array_equal(b.surfaces[k], s)


def test_a_warm_cache_gives_the_same_scores_without_refitting(tmp_path, fits):
    ev, grid = _events()
    cold = _run(ev, grid)
    n_cold = fits["n"]
    fits["n"] = 0
    first = _run(ev, grid, tmp_path)
    assert fits["n"] == n_cold  # an empty folder: everything fitted, and saved
    fits["n"] = 0
    warm_cache = PersistentCache(tmp_path)
    warm = backtest(ev, grid, _methods(), ORIGINS, Horizon(14), cache=warm_cache, keep_surfaces=True)
    # naive, learned and blend at each origin (the blend's own surface is found, so its parts are not asked)
    assert fits["n"] == 0 and warm_cache.hits == 3 * len(ORIGINS)
    assert n_cold == 4 * len(ORIGINS)  # the blend's decayed counts were a fit of their own
    _same(cold, first)
    _same(cold, warm)
    assert warm_cache.folder.parent == tmp_path and warm_cache.folder.name.startswith("forecast-")
    assert code_fingerprint()[:20] in warm_cache.folder.name


def test_one_changed_incident_refits_the_origins_that_knew_it(tmp_path, fits):
    ev, grid = _events(seed=1)
    _run(ev, grid, tmp_path)
    # move one incident that became known between the second and third origins
    o2, o3 = to_days(ORIGINS[1]), to_days(ORIGINS[2])
    i = int(np.flatnonzero((ev.t_end >= o2) & (ev.t_end < o3))[0])
    x2 = ev.x.copy()
    x2[i] = 950.0 if ev.x[i] < 500 else 50.0
    moved = dataclasses.replace(ev, x=x2)
    fits["n"] = 0
    warm = _run(moved, grid, tmp_path)
    n_warm = fits["n"]
    fits["n"] = 0
    fresh = _run(moved, grid)
    _same(fresh, warm)  # never the old data's surfaces
    # the first two origins did not know the incident: reused; every later one refitted
    # (naive, learned, the blend and its decayed counts; the blend reuses the learned fit of its origin)
    later = len(ORIGINS) - 2
    assert n_warm == 4 * later
    assert fits["n"] == 4 * len(ORIGINS)
    # and the moved incident did change the later surfaces
    before = _run(ev, grid)
    assert not np.array_equal(before.surfaces[(ORIGINS[-1], "naive")], warm.surfaces[(ORIGINS[-1], "naive")])
    np.testing.assert_array_equal(before.surfaces[(ORIGINS[0], "naive")], warm.surfaces[(ORIGINS[0], "naive")])


def test_a_changed_setting_is_computed_afresh(tmp_path, fits):
    ev, grid = _events(seed=2)
    _run(ev, grid, tmp_path)
    fits["n"] = 0
    warm = _run(ev, grid, tmp_path, _methods(window_days=182.0))
    assert fits["n"] == len(ORIGINS)  # only the naive counts changed: each origin refitted once
    _same(_run(ev, grid, methods=_methods(window_days=182.0)), warm)


def test_a_damaged_entry_is_computed_again(tmp_path, fits):
    ev, grid = _events(seed=3)
    cold = _run(ev, grid, tmp_path)
    files = sorted(PersistentCache(tmp_path).folder.glob("*.npy"))
    files[0].write_bytes(b"not a surface")
    fits["n"] = 0
    warm = _run(ev, grid, tmp_path)
    assert fits["n"] == 1
    _same(cold, warm)


def test_prune_keeps_the_most_recently_used(tmp_path):
    cache = PersistentCache(tmp_path)
    for i in range(5):
        cache[("surface", f"m{i}", "d")] = np.full((10, 10), float(i))
    paths = sorted(cache.folder.glob("*.npy"), key=lambda p: p.stat().st_mtime)
    size = paths[0].stat().st_size
    for k, p in enumerate(paths):  # distinct ages, oldest first
        os.utime(p, (1_000_000 + k, 1_000_000 + k))
    assert cache.prune(max_bytes=2 * size) == 3
    left = sorted(cache.folder.glob("*.npy"))
    assert left == sorted(paths[3:])
    # only surfaces go to disk
    cache[("features", "k")] = (["a"], np.zeros((3, 1)))
    assert len(list(cache.folder.glob("*.npy"))) == 2
