"""Which cell of a square grid a point falls in: the one binning rule of the engine (numba).

The rule (documented in :mod:`hotspots.geo.grid`):

* coordinates, the grid's corner and its cell size are taken in whole
  **millimetres** (:data:`RESOLUTION_M`; rounded to the nearest millimetre,
  halves up), so the cell of a point never depends on a floating-point residue
  of ``(x - xmin) / cell_size``;
* cells are half-open: column ``c`` holds ``xmin + c*s <= x < xmin + (c+1)*s``
  (a point on a vertical grid line belongs to the cell **east** of it) and row
  ``r`` (row 0 at the top) holds ``ymax - (r+1)*s < y <= ymax - r*s`` (a point on a
  horizontal grid line belongs to the cell **south** of it, whose top edge the line
  is). This is the GeoTIFF / ``rasterio.transform.rowcol`` convention.

Every place that puts points into cells (``Grid.cell_index`` and ``Grid.counts``
and through them the trends cube, coverage, surfaces and forecasts; raster look-ups
in the viewshed kernels) calls these functions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Coordinates are binned at this resolution (metres).
RESOLUTION_M = 0.001


@njit(cache=True)
def to_units(v: float) -> int:
    """A coordinate or length in metres as whole millimetres (nearest, halves up)."""
    return math.floor(v / RESOLUTION_M + 0.5)


@njit(cache=True)
def col_of(x: float, x0: float, cs: float) -> int:
    """Column of ``x`` on a grid whose west edge is ``x0`` and cells ``cs`` metres wide (any integer,
    negative or past the last column when outside)."""
    return (to_units(x) - to_units(x0)) // to_units(cs)


@njit(cache=True)
def row_of(y: float, ytop: float, cs: float) -> int:
    """Row of ``y`` (row 0 at the top edge ``ytop``); a point on a horizontal line goes to the row below it."""
    return (to_units(ytop) - to_units(y)) // to_units(cs)


@njit(cache=True)
def bin_points(x, y, x0, ytop, cs, nrows, ncols):
    """(row, col) int64 arrays of the points ``x, y`` (metres); -1 for points off the grid or not finite."""
    n = x.shape[0]
    row = np.full(n, -1, dtype=np.int64)
    col = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if not (np.isfinite(x[i]) and np.isfinite(y[i])):
            continue
        # far outside: skip before converting to millimetres (no integer overflow)
        if x[i] < x0 - cs or x[i] > x0 + (ncols + 1) * cs or y[i] > ytop + cs or y[i] < ytop - (nrows + 1) * cs:
            continue
        c = col_of(x[i], x0, cs)
        r = row_of(y[i], ytop, cs)
        if 0 <= c < ncols and 0 <= r < nrows:
            row[i] = r
            col[i] = c
    return row, col
