"""Chronic or acute, robust or fragile: two facts about each tasking item's place from the concentration stage.

*Chronic* places have been busy in most years and need a problem-solving plan with partners; *acute*
places flared up recently and need patrol (and, for burglary, cocooning). An item's label comes from the
trajectories of the grid cells whose centres lie in its place
(:func:`hotspots.analysis.trajectories.area_stability`: chronic if any cell is chronic, else acute if
any is acute). Its robustness is the best share of other grids and search radii that find one of the
hotspot areas it is made of (:mod:`hotspots.analysis.robustness`): below ``[concentration]
fragile_below`` the place is *fragile*, perhaps an accident of where the grid lines fall.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ..stages.concentration_result import ConcentrationResult, Stability
from ..stages.results import RunResults


def _cells_in(res: RunResults, geom: object) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the analysis grid's cells whose centres lie in ``geom`` (working CRS)."""
    g = res.grid
    rows, cols = np.nonzero(g.mask)
    xc, yc = g.centres()
    inside = np.asarray(shapely.contains_xy(np.asarray([geom], dtype=object), xc[rows, cols], yc[rows, cols]))
    return rows[inside], cols[inside]


def item_stability(res: RunResults, conc: ConcentrationResult, items: gpd.GeoDataFrame) -> list[Stability | None]:
    """The chronic/acute label and trajectory class of each item's place (None where no cell has a trajectory)."""
    out: list[Stability | None] = []
    for geom in items.geometry:
        rows, cols = _cells_in(res, geom)
        if rows.size == 0:  # a place smaller than a cell: the cell under a point inside it
            p = shapely.point_on_surface(geom)
            r, c = res.grid.cell_index(np.array([p.x]), np.array([p.y]))
            rows, cols = r[r >= 0], c[r >= 0]
        out.append(conc.stability_of_cells(rows, cols) if rows.size else None)
    return out


def stability_words(s: Stability | None) -> str:
    """ "chronic (stable high)", "acute (flare-up)", "neither (falling)" or "" (no trajectory)."""
    if s is None:
        return ""
    label = "neither" if s.label == "none" else s.label
    return f"{label} ({s.trajectory})"


def item_robustness(conc: ConcentrationResult, items: gpd.GeoDataFrame) -> list[float]:
    """Per item, the highest robustness (0..1) of the tested hotspot areas that overlap its place
    (NaN when none was tested, e.g. a near-repeat alert zone alone)."""
    rob = conc.robustness_frame()
    out = [float("nan")] * len(items)
    if rob is None or not len(items):
        return out
    tree = shapely.STRtree(np.asarray(rob.geometry.values))
    geoms = np.asarray(items.geometry.values)
    it, ar = tree.query(geoms, predicate="intersects")
    vals = rob["robustness"].to_numpy(float)
    for i, a in zip(it, ar, strict=True):
        out[i] = vals[a] if np.isnan(out[i]) else max(out[i], vals[a])
    return out


#: How the tasking list and the maps call a fragile hotspot, in plain words.
FRAGILE_WORDS = "hotspot that depends on the grid"


def robustness_words(value: float, fragile_below: float) -> str:
    """ "robust (92%)", "fragile: hotspot that depends on the grid (25%)" or "" (not tested)."""
    if not np.isfinite(value):
        return ""
    if value < fragile_below:
        return f"fragile: {FRAGILE_WORDS} ({value:.0%})"
    return f"robust ({value:.0%})"
