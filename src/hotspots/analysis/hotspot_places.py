"""Places: hotspot areas (of every crime type) that overlap or lie close together, merged into one.

The one rule for "a place", used wherever the engine lists places for people
to act on (CCTV coverage gaps; the tasking list's items,
:mod:`hotspots.tasking.places`): two areas belong to
the same place when they overlap, touch or lie within ``merge_distance_m``
metres of each other, and chains count (A near B and B near C make one place
of all three). A place's outline is the union of its areas, so a place can be
in several parts when its areas are close but apart.

Without this rule the same street corner shows up once per crime type (a
snap point with 730 crimes is a hotspot area for anti-social behaviour,
bicycle theft, public order, ...), each row claiming the same harm.

The automatic distance (``[tasking] merge_distance_m = 0``,
:func:`automatic_merge_distance`) is the larger of the grid cell size (two
areas a cell apart are within the resolution of the analysis) and the median
spacing of neighbouring distinct incident locations (police.uk moves every crime
to one of a set of snap points, about 80 m apart in Barnet; two areas a snap
apart are the same street), rounded up to 10 m.

Working CRS, metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def median_location_spacing(x: np.ndarray, y: np.ndarray) -> float:
    """Median distance (metres) from each distinct incident location (to the metre) to its nearest other
    one; 0 with fewer than two locations."""
    xy = np.unique(np.round(np.c_[np.asarray(x, float), np.asarray(y, float)]), axis=0)
    if len(xy) < 2:
        return 0.0
    d, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(d[:, 1]))


def automatic_merge_distance(cell_size_m: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(distance, spacing): the larger of the grid cell ``cell_size_m`` and the median spacing of the
    incident locations ``x, y`` (metres), rounded up to 10 m; and that spacing."""
    spacing = median_location_spacing(x, y)
    return float(np.ceil(max(float(cell_size_m), spacing) / 10.0) * 10.0), spacing


def place_labels(geoms, merge_distance_m: float) -> np.ndarray:
    """The place (0, 1, ...) of each geometry: numbered in the order of each place's first geometry."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return np.zeros(0, np.int64)
    tree = shapely.STRtree(geoms)
    if merge_distance_m > 0:
        a, b = tree.query(geoms, predicate="dwithin", distance=float(merge_distance_m))
    else:
        a, b = tree.query(geoms, predicate="intersects")
    g = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _n, lab = connected_components(g, directed=False)
    # renumber in order of first appearance, so the numbering follows the input order
    _u, first = np.unique(lab, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[lab].astype(np.int64)


def merge_into_places(areas: gpd.GeoDataFrame, merge_distance_m: float) -> gpd.GeoDataFrame:
    """One row per place: ``place`` (number), ``members`` (tuple of the rows of ``areas`` merged into it,
    by position) and ``geometry`` (their union), in the CRS of ``areas``."""
    if len(areas) == 0:
        return gpd.GeoDataFrame({"place": [], "members": []}, geometry=[], crs=areas.crs)
    lab = place_labels(areas.geometry.to_numpy(), merge_distance_m)
    geoms = areas.geometry.to_numpy()
    rows = []
    for k in range(int(lab.max()) + 1):
        idx = np.nonzero(lab == k)[0]
        rows.append({"place": k, "members": tuple(int(i) for i in idx), "geometry": shapely.union_all(geoms[idx])})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=areas.crs)
