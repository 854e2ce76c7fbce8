"""The one neighbour builder: grid queen/rook/band against libpysal lat2W, Queen/Rook on the cell
polygons and DistanceBand; polygons against hand-built contiguity; points against brute force;
every caller (Gi*, trends, local Knox) uses it."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
import shapely

from hotspots.analysis.neighbours import distance_band_neighbours, grid_neighbours, polygon_neighbours, queen_csr
from hotspots.errors import ConfigError

# the modules themselves (hotspots.analysis.gistar is also the name of the Gi* verb)
gistar = importlib.import_module("hotspots.analysis.gistar")
local_knox = importlib.import_module("hotspots.analysis.local_knox")
neighbours = importlib.import_module("hotspots.analysis.neighbours")
trends = importlib.import_module("hotspots.analysis.trends")


def as_sets(indptr, indices):
    assert indptr[0] == 0 and indptr[-1] == indices.size
    assert indptr.dtype == np.int64 and indices.dtype == np.int64
    out = []
    for i in range(indptr.size - 1):
        nb = indices[indptr[i] : indptr[i + 1]]
        assert np.all(np.diff(nb) > 0), "neighbours are listed once each, ascending"
        out.append(set(nb.tolist()))
    return out


def masked_grid():
    m = np.ones((7, 9), dtype=bool)
    m[0, 0] = m[6, 8] = m[3, 4] = m[3, 5] = False  # corners and an interior hole
    m[5, 0:3] = False
    return m


def cell_polygons(mask, cell=100.0):
    import geopandas as gpd

    rows, cols = np.nonzero(mask)
    geom = shapely.box(cols * cell, -(rows + 1) * cell, (cols + 1) * cell, -rows * cell)
    return gpd.GeoDataFrame(geometry=geom, crs=27700)


@pytest.mark.parametrize("rook", [False, True])
def test_full_grid_equals_libpysal_lat2w(rook):
    from libpysal.weights import lat2W

    nr, nc = 5, 8
    ip, ix = grid_neighbours(np.ones((nr, nc), bool), contiguity="rook" if rook else "queen")
    w = lat2W(nr, nc, rook=rook)  # ids are row-major: r * nc + c, as our sites
    got = as_sets(ip, ix)
    assert got == [set(w.neighbors[i]) for i in range(nr * nc)]


@pytest.mark.parametrize("contiguity", ["queen", "rook"])
def test_masked_grid_equals_libpysal_on_the_cell_polygons(contiguity):
    from libpysal.weights import Queen, Rook

    m = masked_grid()
    ip, ix = grid_neighbours(m, 100.0, contiguity=contiguity)
    cls = Queen if contiguity == "queen" else Rook
    w = cls.from_dataframe(cell_polygons(m), use_index=False, silence_warnings=True)
    assert as_sets(ip, ix) == [set(w.neighbors[i]) for i in range(int(m.sum()))]


@pytest.mark.parametrize("band", [100.0, 141.43, 150.0, 250.0])
def test_grid_band_equals_libpysal_distance_band(band):
    from libpysal.weights import DistanceBand

    m = masked_grid()
    rows, cols = np.nonzero(m)
    pts = np.column_stack([cols * 100.0 + 50, -rows * 100.0 - 50])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(pts, threshold=band + 1e-6, binary=True, silence_warnings=True)
    ip, ix = grid_neighbours(m, 100.0, band)
    assert as_sets(ip, ix) == [set(w.neighbors[i]) for i in range(len(pts))]


def test_queen_is_the_diagonal_band_and_self_is_optional():
    m = masked_grid()
    q = grid_neighbours(m, 100.0)
    b = grid_neighbours(m, 100.0, 100.0 * math.sqrt(2))
    assert all(np.array_equal(u, v) for u, v in zip(q, b, strict=True))
    ip, ix = grid_neighbours(m, 100.0, include_self=True)
    assert as_sets(ip, ix) == [s | {i} for i, s in enumerate(as_sets(*q))]
    rows, cols, ptr, idx = queen_csr(m)
    assert np.array_equal(ptr, ip) and np.array_equal(idx, ix)
    assert np.array_equal(rows, np.nonzero(m)[0]) and np.array_equal(cols, np.nonzero(m)[1])
    # a band shorter than a cell: nobody is a neighbour
    ip0, ix0 = grid_neighbours(m, 100.0, 60.0)
    assert ix0.size == 0 and ip0.size == m.sum() + 1
    with pytest.raises(ConfigError, match="contiguity"):
        grid_neighbours(m, contiguity="bishop")
    with pytest.raises(ConfigError, match="band_m"):
        grid_neighbours(m, 100.0, -5.0)


def test_polygons_hand_built_queen_rook_and_band():
    import geopandas as gpd

    # a 2 x 2 block of unit squares (0 1 / 2 3) and a far-away square 4:
    # rook pairs share an edge (0-1, 0-2, 1-3, 2-3); queen adds the corner pairs 0-3 and 1-2
    sq = [
        shapely.box(0, 1, 1, 2),
        shapely.box(1, 1, 2, 2),
        shapely.box(0, 0, 1, 1),
        shapely.box(1, 0, 2, 1),
        shapely.box(10, 10, 11, 11),
    ]
    gdf = gpd.GeoDataFrame({"name": list("abcde")}, geometry=sq, crs=27700, index=[10, 11, 12, 13, 14])
    rook = as_sets(*polygon_neighbours(gdf, "rook"))
    queen = as_sets(*polygon_neighbours(gdf, "queen"))
    assert rook == [{1, 2}, {0, 3}, {0, 3}, {1, 2}, set()]
    assert queen == [{1, 2, 3}, {0, 2, 3}, {0, 1, 3}, {0, 1, 2}, set()]
    # centroids 1 apart along edges, sqrt(2) across the diagonal
    assert as_sets(*polygon_neighbours(gdf, "band", 1.0)) == rook
    assert as_sets(*polygon_neighbours(gdf, "band", 1.5)) == queen
    with pytest.raises(ConfigError):
        polygon_neighbours(gdf, "band")
    with pytest.raises(ConfigError):
        polygon_neighbours(gdf, "knight")


def test_distance_band_points_equal_brute_force():
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1000, 300).round(0)  # whole metres: many exact ties at the band
    y = rng.uniform(0, 1000, 300).round(0)
    x[5], y[5] = x[6], y[6]  # coincident points are neighbours
    for band in (25.0, 60.0, 100.0):
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        want = [set(np.nonzero((d[i] <= band) & (np.arange(x.size) != i))[0].tolist()) for i in range(x.size)]
        assert as_sets(*distance_band_neighbours(x, y, band)) == want
    ip, ix = distance_band_neighbours(np.array([]), np.array([]), 10.0)
    assert ip.tolist() == [0] and ix.size == 0


def test_every_caller_builds_neighbours_here():
    assert gistar.grid_neighbours is neighbours.grid_neighbours
    assert gistar.polygon_neighbours is neighbours.polygon_neighbours
    assert trends.queen_csr is neighbours.queen_csr
    x = np.array([0.0, 3.0, 10.0, 10.0])
    y = np.zeros(4)
    a = local_knox.spatial_neighbours_csr(x, y, 5.0)
    b = distance_band_neighbours(x, y, 5.0)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_grid_neighbours_kept_for_the_same_mask_follow_a_changed_cell():
    """Neighbour lists are kept per mask and settings: asking again gives equal lists (a copy the caller may
    change), and a mask with one cell changed gets its own lists, equal to a brute-force search."""
    import numpy as np

    from hotspots.analysis.neighbours import grid_neighbours

    rng = np.random.default_rng(2)
    mask = rng.random((30, 40)) < 0.7

    def brute(m, band):
        rows, cols = np.nonzero(m)
        d = np.hypot(rows[:, None] - rows[None, :], cols[:, None] - cols[None, :]) * 100.0
        near = (d <= band) & ~np.eye(rows.size, dtype=bool)
        return np.concatenate([[0], np.cumsum(near.sum(axis=1))]), np.nonzero(near)[1]

    first = grid_neighbours(mask, 100.0, 250.0)
    first[1][:] = -1  # the caller's copy: the kept lists are unharmed
    again = grid_neighbours(mask, 100.0, 250.0)
    want = brute(mask, 250.0)
    assert np.array_equal(again[0], want[0]) and np.array_equal(again[1], want[1])
    changed = mask.copy()
    changed[5, 5] = not changed[5, 5]
    got = grid_neighbours(changed, 100.0, 250.0)
    want = brute(changed, 250.0)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    other_band = grid_neighbours(mask, 100.0, 150.0)
    assert np.array_equal(other_band[1], brute(mask, 150.0)[1])
