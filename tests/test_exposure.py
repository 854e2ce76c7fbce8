"""Exposure covariates per cell against hand-computed and brute-force references."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.errors import InputError
from hotspots.forecast import exposure as X
from hotspots.forecast.features import CellContext
from hotspots.forecast.harness import EventTable, History, Horizon
from hotspots.forecast.methods import LearnedRisk
from hotspots.geo.grid import Grid

CRS = "EPSG:27700"


def _grid():
    return Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)


def test_households_split_over_points_and_by_area_without_points():
    grid = _grid()
    areas = gpd.GeoDataFrame(
        {"hh": [300.0, 80.0]}, geometry=[shapely.box(0, 0, 500, 1000), shapely.box(500, 0, 1000, 1000)], crs=CRS
    )
    # three postcode points in the west area, none in the east
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([50.0, 150.0, 150.0], [950.0, 950.0, 850.0]), crs=CRS)
    out = X.households_per_cell(areas, "hh", grid, points=pts)
    v = out.values[0]
    assert out.names == ("households_per_cell",)
    assert v[0, 0] == pytest.approx(100.0) and v[0, 1] == pytest.approx(100.0) and v[1, 1] == pytest.approx(100.0)
    assert v[:, :5].sum() == pytest.approx(300.0)
    # the east area has no points: 80 households over its 50 cells of equal area
    np.testing.assert_allclose(v[:, 5:], 80.0 / 50.0)
    assert v.sum() == pytest.approx(380.0)
    with pytest.raises(InputError, match="no column"):
        X.households_per_cell(areas, "households", grid)


def test_address_density_distance_and_cameras_against_brute_force():
    grid = _grid()
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 200), rng.uniform(0, 1000, 200)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=CRS)
    ad = X.address_density(pts, grid, radius_m=150.0)
    np.testing.assert_array_equal(ad.values[0], grid.counts(x, y))
    assert ad.names == ("postcodes_per_cell", "postcodes_per_km2_150m")
    xc, yc = grid.centres()
    d = np.hypot(xc[..., None] - x, yc[..., None] - y)
    cam = X.camera_coverage(pts, grid, radius_m=120.0)
    np.testing.assert_array_equal(cam.values[0], (d <= 120.0).sum(axis=-1))
    np.testing.assert_allclose(cam.values[1], d.min(axis=-1))
    road = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 420), (1000, 420)])], crs=CRS)
    dist = X.distance_to(road, grid, "road")
    np.testing.assert_allclose(dist.values[0], np.abs(yc - 420.0))
    both = X.combine(ad, cam, dist)
    assert both.names == ad.names + cam.names + dist.names and both.values.shape == (5, 10, 10)
    assert both.select(["dist_road_m"]).names == ("dist_road_m",)
    with pytest.raises(InputError, match="repeat"):
        X.combine(ad, ad)
    with pytest.raises(InputError, match="reproject"):
        X.address_density(pts.set_crs("EPSG:4326", allow_override=True), grid)


def test_learned_model_uses_exposure_when_given_and_it_tells_empty_cells_apart():
    """Burglary falls only where there are homes (a planted household surface). With sparse history many
    cells with homes have no incident yet: counts cannot tell them from cells without homes, the
    exposure feature can."""
    grid = Grid.from_boundary(shapely.box(0, 0, 2000, 2000), 100)
    rng = np.random.default_rng(3)
    homes = np.where(rng.random(grid.shape) < 0.3, rng.uniform(20, 200, grid.shape), 0.0)
    p = (homes / homes.sum()).ravel()
    n = 200
    cells = rng.choice(p.size, n, p=p)
    r, c = np.divmod(cells, grid.ncols)
    x = grid.xmin + (c + rng.random(n)) * 100
    y = grid.ymax - (r + rng.random(n)) * 100
    dates = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    ev = EventTable.from_dates(x, y, dates)
    expo = X.ExposureFeatures(("households_per_cell",), homes[None])
    ctx = CellContext(exposure=expo)
    h = History(ev, pd.Timestamp("2022-12-01", tz="Europe/London"), Horizon(14), grid, context=ctx)
    kw = dict(n_train_origins=12, max_iter=60, min_samples_leaf=20, with_prospective=False)
    with_e = LearnedRisk(**kw).fit(h)
    without = LearnedRisk(with_exposure=False, **kw).fit(h)
    assert "households_per_cell" in with_e.feature_names_
    assert "households_per_cell" not in without.feature_names_
    empty = (h.counts() == 0) & grid.mask
    has_homes = homes[empty] > 0
    assert 15 < has_homes.sum() < empty.sum() - 15  # both kinds of empty cell exist

    def auc(score):
        a, b = score[empty][has_homes], score[empty][~has_homes]
        return (a[:, None] > b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean()

    a_with, a_without = auc(with_e.predict(h.origin)), auc(without.predict(h.origin))
    assert a_with > 0.85 and a_with > a_without + 0.2
