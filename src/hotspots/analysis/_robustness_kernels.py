"""Numba kernel for the hotspot robustness sweep: overlap of reference areas with hot areas of another grid.

Array in, array out; coordinates in metres (EPSG:27700), north-up grids with row 0 at the
top. A pure-numpy/shapely reference of the kernel lives in the tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def overlap_matrix(rows, cols, labels, n_areas, xmin_r, ymax_r, cell_r, comp, n_comp, xmin_s, ymax_s, cell_s):
    """Area (m²) shared by each reference area and each hot area of another grid.

    Parameters
    ----------
    rows, cols : int64 arrays (m,)
        Reference-grid cells that belong to an area.
    labels : int64 array (m,)
        Area id (1..n_areas) of each of those cells.
    n_areas : int
    xmin_r, ymax_r, cell_r : float
        Top-left corner and cell side of the reference grid, metres.
    comp : int64 array (nrows_s, ncols_s)
        Hot area id (1..n_comp) of each cell of the other grid, 0 where not hot.
    n_comp : int
    xmin_s, ymax_s, cell_s : float
        Top-left corner and cell side of the other grid, metres.

    Returns
    -------
    float64 array (n_areas + 1, n_comp + 1)
        Shared area of reference area a and hot area b at [a, b] (row and column
        0 unused). The cells of one grid do not overlap each other, so summing
        square-by-square intersections gives the exact shared area of the two
        unions of (unclipped) cell squares.
    """
    out = np.zeros((n_areas + 1, n_comp + 1))
    nr = comp.shape[0]
    nc = comp.shape[1]
    for i in range(rows.shape[0]):
        x0 = xmin_r + cols[i] * cell_r
        x1 = x0 + cell_r
        y1 = ymax_r - rows[i] * cell_r
        y0 = y1 - cell_r
        c0 = int(math.floor((x0 - xmin_s) / cell_s))
        c1 = int(math.floor((x1 - xmin_s) / cell_s))
        r0 = int(math.floor((ymax_s - y1) / cell_s))
        r1 = int(math.floor((ymax_s - y0) / cell_s))
        if c0 < 0:
            c0 = 0
        if r0 < 0:
            r0 = 0
        if c1 > nc - 1:
            c1 = nc - 1
        if r1 > nr - 1:
            r1 = nr - 1
        a = labels[i]
        for r in range(r0, r1 + 1):
            sy1 = ymax_s - r * cell_s
            sy0 = sy1 - cell_s
            oy = min(y1, sy1) - max(y0, sy0)
            if oy <= 0.0:
                continue
            for c in range(c0, c1 + 1):
                b = comp[r, c]
                if b == 0:
                    continue
                sx0 = xmin_s + c * cell_s
                ox = min(x1, sx0 + cell_s) - max(x0, sx0)
                if ox > 0.0:
                    out[a, b] += ox * oy
    return out
