"""What the public-consultation map may show: incident counts on square cells, small counts removed.

Nothing incident-level leaves this module: incidents are counted on square
cells (default at least 250 m) and cells with fewer than ``min_count``
incidents (default 5) are left out altogether, so a small count can never be
read off the map. The page itself is drawn by
:func:`hotspots.render.coverage.write_public_map`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from ..crs import DEFAULT_CRS
from ..geo.grid import Grid


def public_cells(
    x, y, boundary: BaseGeometry, cell_m: float = 250.0, min_count: int = 5, crs: str = DEFAULT_CRS
) -> gpd.GeoDataFrame:
    """Incident counts per square cell (GeoDataFrame in ``crs``, the CRS of ``x, y`` and ``boundary``):
    only cells with count >= ``min_count``."""
    grid = Grid.from_boundary(boundary, cell_m, crs=crs)
    counts = grid.counts(np.asarray(x, float), np.asarray(y, float))
    keep = grid.mask & (counts >= min_count)
    g = grid.to_frame(count=counts.astype(int))
    g = g[keep[g["row"], g["col"]]].reset_index(drop=True)
    return gpd.GeoDataFrame({"count": g["count"].astype(int).to_numpy()}, geometry=g.geometry.to_numpy(), crs=crs)
