"""Spatial neighbours as CSR lists: the one place the engine decides who neighbours whom.

Every builder returns ``(indptr, indices)`` (int64): the neighbours of site ``i`` are
``indices[indptr[i]:indptr[i + 1]]``, sorted ascending unless said otherwise, each pair
listed from both ends. Distances are metres (EPSG:27700 or any projected CRS).

* :func:`grid_neighbours` - the masked cells of a regular grid: queen (the 8 cells
  around), rook (the 4 sharing an edge) or a distance band between cell centres;
* :func:`polygon_neighbours` - polygons (wards, LSOAs): queen or rook contiguity
  (libpysal) or a distance band between centroids;
* :func:`distance_band_neighbours` - points within a distance of each other.

Gi* (surfaces and the space-time cube), the forecast's Gi* method and local Knox all
build their neighbourhoods here.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict

import numpy as np
from scipy.spatial import cKDTree

from ..errors import ConfigError, InputError

__all__ = ["CONTIGUITIES", "distance_band_neighbours", "grid_neighbours", "polygon_neighbours", "queen_csr"]

#: Grid and polygon contiguity rules.
CONTIGUITIES = ("queen", "rook")


def _grid_offsets(cell_size: float, band_m: float, contiguity: str, include_self: bool) -> list[tuple[int, int]]:
    """(row, column) offsets of a cell's neighbourhood, in row-major order."""
    if band_m > 0:
        reach = int(math.floor(band_m / cell_size + 1e-9))

        def keep(dr, dc):
            return math.hypot(dr, dc) * cell_size <= band_m * (1 + 1e-9)
    elif contiguity == "queen":
        reach = 1

        def keep(dr, dc):
            return True
    else:  # rook
        reach = 1

        def keep(dr, dc):
            return abs(dr) + abs(dc) <= 1

    return [
        (dr, dc)
        for dr in range(-reach, reach + 1)
        for dc in range(-reach, reach + 1)
        if ((dr or dc) or include_self) and keep(dr, dc)
    ]


def grid_neighbours(
    mask: np.ndarray,
    cell_size: float = 1.0,
    band_m: float = 0.0,
    *,
    contiguity: str = "queen",
    include_self: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """CSR neighbour lists of the masked cells of a grid.

    Sites are the True cells of ``mask`` in row-major order (the order of
    ``np.nonzero(mask)`` and of :meth:`Grid.to_frame`). With ``band_m`` > 0 a
    neighbour is a masked cell whose centre lies within ``band_m`` metres of the
    site's centre (cells ``cell_size`` metres square); otherwise ``contiguity``
    decides: ``"queen"`` (the 8 surrounding cells; the same as a band of
    ``cell_size * sqrt(2)``) or ``"rook"`` (the 4 sharing an edge). The site itself
    is left out unless ``include_self`` (it is then listed among its neighbours,
    in row-major position).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise InputError(f"the cell mask must be 2-D (rows x columns), got shape {mask.shape}.")
    if contiguity not in CONTIGUITIES:
        raise ConfigError(f"grid contiguity must be one of {list(CONTIGUITIES)}, got {contiguity!r}.")
    if not (band_m >= 0 and math.isfinite(band_m)):
        raise ConfigError(f"band_m must be >= 0 metres (0 = {contiguity} contiguity), got {band_m!r}.")
    if band_m > 0 and not cell_size > 0:
        raise ConfigError(f"a distance band needs the cell size in metres (> 0), got {cell_size!r}.")
    cells = hashlib.blake2b(np.packbits(mask).tobytes()).digest()
    key = (mask.shape, cells, cell_size, band_m, contiguity, include_self)
    if key not in _GRID_NEIGHBOURS:
        _GRID_NEIGHBOURS[key] = _grid_neighbours(mask, cell_size, band_m, contiguity, include_self)
        if len(_GRID_NEIGHBOURS) > _KEEP_GRID_NEIGHBOURS:
            _GRID_NEIGHBOURS.popitem(last=False)
    _GRID_NEIGHBOURS.move_to_end(key)
    indptr, indices = _GRID_NEIGHBOURS[key]
    return indptr.copy(), indices.copy()  # a caller may change its copy


#: The neighbour lists of the last grids asked for (a pack asks for the same grid and band once per crime
#: type, the robustness sweep for each of its grids), keyed on the mask's cells and the settings.
_GRID_NEIGHBOURS: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_KEEP_GRID_NEIGHBOURS = 32


def _grid_neighbours(
    mask: np.ndarray, cell_size: float, band_m: float, contiguity: str, include_self: bool
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`grid_neighbours` of a checked 2-D boolean mask."""
    offs = _grid_offsets(cell_size, band_m, contiguity, include_self)
    nrows, ncols = mask.shape
    site = np.full(mask.shape, -1, dtype=np.int64)
    rows, cols = np.nonzero(mask)
    n = rows.size
    site[rows, cols] = np.arange(n)
    if not offs:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nb = np.full((n, len(offs)), -1, dtype=np.int64)
    for k, (dr, dc) in enumerate(offs):
        rr, cc = rows + dr, cols + dc
        ok = (rr >= 0) & (rr < nrows) & (cc >= 0) & (cc < ncols)
        nb[ok, k] = site[rr[ok], cc[ok]]
    valid = nb >= 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(valid.sum(axis=1))
    indices = nb[valid]  # per site, in row-major offset order: ascending site numbers
    return indptr, indices


def queen_csr(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Queen neighbours *with each cell itself* of the masked cells of a grid.

    Returns ``(rows, cols, ptr, idx)``: the masked cells in row-major order and
    :func:`grid_neighbours` with ``include_self=True`` (the space-time cube's layout).
    """
    rows, cols = np.nonzero(np.asarray(mask, dtype=bool))
    ptr, idx = grid_neighbours(mask, include_self=True)
    return rows, cols, ptr, idx


def _pairs_to_csr(i: np.ndarray, j: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (sorted within each row) from unordered pairs i-j, listed from both ends."""
    a = np.concatenate([i, j]).astype(np.int64)
    b = np.concatenate([j, i]).astype(np.int64)
    order = np.lexsort((b, a))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, a + 1, 1)
    return np.cumsum(indptr), b[order]


def distance_band_neighbours(x, y, band_m: float) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists of the points within ``band_m`` metres of each point (Euclidean,
    inclusive, the point itself excluded; coincident points are neighbours)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not band_m > 0:
        raise ConfigError(f"a distance band needs band_m > 0 metres, got {band_m!r}.")
    n = x.size
    if n == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(band_m, p=2, output_type="ndarray")
    return _pairs_to_csr(pairs[:, 0], pairs[:, 1], n)


def polygon_neighbours(polygons, contiguity: str = "queen", band_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """CSR neighbour lists (self excluded) for polygons (GeoDataFrame, EPSG:27700).

    ``contiguity`` queen or rook (libpysal: a shared vertex / a shared edge), or
    ``band`` with ``band_m`` metres between centroids.
    """
    if contiguity in CONTIGUITIES:
        # imported here, not at the top: libpysal takes seconds to import and only polygon
        # contiguity needs it, while every command imports this module through gistar
        from libpysal import weights as lw

        cls = lw.Queen if contiguity == "queen" else lw.Rook
        w = cls.from_dataframe(polygons.reset_index(drop=True), use_index=False, silence_warnings=True)
        sp = w.sparse.tocsr()
        sp.setdiag(0)
        sp.eliminate_zeros()
        sp.sort_indices()
        return sp.indptr.astype(np.int64), sp.indices.astype(np.int64)
    if contiguity == "band":
        if not band_m > 0:
            raise ConfigError("contiguity='band' needs band_m > 0 metres.")
        c = polygons.geometry.centroid
        return distance_band_neighbours(c.x.to_numpy(), c.y.to_numpy(), band_m)
    raise ConfigError(f"contiguity must be queen, rook or band, got {contiguity!r}.")
