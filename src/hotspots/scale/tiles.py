"""Kernel density tile by tile, for very large areas and for spreading one surface over a cluster.

The grid (working CRS, metres) is cut into square blocks of ``tile_cells`` x
``tile_cells`` cells. A tile is computed from the points within the kernel's reach
of it (a halo of the search radius, or 8 sigma for the Gaussian kernel, plus one
cell), with the engine's own density kernel evaluated at the tile's cells. Every
cell therefore receives exactly the same contributions, in the same order, as in the
untiled :func:`hotspots.analysis.density.density_surface`; on a grid whose origin and
cell size are whole metres (the engine's grids are aligned to multiples of the cell
size) the stitched surface is bit-for-bit identical, and within floating-point
rounding (1e-12 relative) otherwise.

Tiles with no cell inside the study area are skipped. With a Dask ``client`` each
tile is one task; only the tile's own points travel to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util import kernel_array
from ..analysis import _kernels
from ..analysis.density import checked_points
from ..errors import ConfigError
from .distributed import gather_all


@dataclass(frozen=True)
class Tile:
    """A block of grid cells: rows ``row0:row1`` and columns ``col0:col1`` (half-open, row 0 at the top)."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.row1 - self.row0, self.col1 - self.col0)


def kernel_reach(radius_m: float, kernel: str = "quartic") -> float:
    """Distance in metres beyond which a point adds nothing to a cell (the halo of a tile)."""
    if kernel == "gaussian":
        return _kernels.GAUSS_TRUNCATE_SIGMAS * radius_m / _kernels.GAUSS_SIGMAS_PER_RADIUS
    return float(radius_m)


def plan_tiles(grid, tile_cells: int = 256) -> list[Tile]:
    """Tiles of at most ``tile_cells`` x ``tile_cells`` cells covering every masked cell of ``grid``."""
    if tile_cells < 1:
        raise ConfigError(f"[scale] tile_cells must be at least 1 cell, got {tile_cells}.")
    tiles = []
    for r0 in range(0, grid.nrows, tile_cells):
        r1 = min(r0 + tile_cells, grid.nrows)
        for c0 in range(0, grid.ncols, tile_cells):
            c1 = min(c0 + tile_cells, grid.ncols)
            if grid.mask[r0:r1, c0:c1].any():
                tiles.append(Tile(r0, r1, c0, c1))
    return tiles


def tile_points(x: np.ndarray, y: np.ndarray, grid, tile: Tile, reach_m: float) -> np.ndarray:
    """Indices (in input order) of the points within ``reach_m`` metres (plus one cell) of ``tile``."""
    cs = grid.cell_size
    x_lo = grid.xmin + tile.col0 * cs - reach_m - cs
    x_hi = grid.xmin + tile.col1 * cs + reach_m + cs
    y_hi = grid.ymax - tile.row0 * cs + reach_m + cs
    y_lo = grid.ymax - tile.row1 * cs - reach_m - cs
    return np.flatnonzero((x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi))


def kde_tile(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    xmin: float,
    ymax: float,
    cell: float,
    tile: Tile,
    radius_m: float,
    kernel: str,
) -> np.ndarray:
    """Density (weight per m²) at the cells of ``tile`` from points ``x, y`` (metres), shape ``tile.shape``.

    ``xmin``/``ymax`` are the corner of the *whole* grid; the tile's own corner is derived from them.
    """
    nr, nc = tile.shape
    return _kernels.kde_grid(
        kernel_array(x, np.float64),
        kernel_array(y, np.float64),
        kernel_array(w, np.float64),
        float(xmin + tile.col0 * cell),
        float(ymax - tile.row0 * cell),
        float(cell),
        int(nr),
        int(nc),
        float(radius_m),
        _kernels.KERNEL_CODES[kernel],
    )


def tiled_density_surface(
    x,
    y,
    grid,
    radius_m: float,
    kernel: str = "quartic",
    weights=None,
    tile_cells: int = 256,
    client=None,
    retries: int = 2,
) -> np.ndarray:
    """Same result as :func:`hotspots.analysis.density.density_surface`, computed tile by tile.

    Parameters
    ----------
    x, y : array-like
        Point coordinates, metres in the working CRS.
    grid : hotspots.geo.grid.Grid
    radius_m : float
        Search radius in metres.
    kernel : {"quartic", "epanechnikov", "gaussian"}
    weights : array-like, optional
        Per-point weights (default 1).
    tile_cells : int
        Tile side in cells.
    client : dask.distributed.Client, optional
        Run each tile as a task on this cluster; ``None`` computes the tiles here, one after another.
    retries : int
        Extra attempts for a tile whose task fails (Dask only).

    Returns
    -------
    ndarray (nrows, ncols)
        Incidents (or weight) per km²; NaN outside the study area.
    """
    x, y, w = checked_points(x, y, weights, radius_m, kernel)
    reach = kernel_reach(radius_m, kernel)
    tiles = plan_tiles(grid, tile_cells)
    args = []
    for t in tiles:
        idx = tile_points(x, y, grid, t, reach)
        args.append(
            (
                x[idx],
                y[idx],
                w[idx],
                float(grid.xmin),
                float(grid.ymax),
                float(grid.cell_size),
                t,
                float(radius_m),
                kernel,
            )
        )
    if client is None:
        parts = [kde_tile(*a) for a in args]
    else:
        futures = [
            client.submit(kde_tile, *a, key=f"hotspots-kde-tile-{t.row0}-{t.col0}-{_token(a)}", retries=retries)
            for t, a in zip(tiles, args, strict=True)
        ]
        parts = gather_all(client, futures, [f"KDE tile rows {t.row0}-{t.row1}, cols {t.col0}-{t.col1}" for t in tiles])
    out = np.zeros(grid.shape)
    for t, p in zip(tiles, parts, strict=True):
        out[t.row0 : t.row1, t.col0 : t.col1] = p
    out *= 1e6  # per m² -> per km², as density_surface
    out[~grid.mask] = np.nan
    return out


def _token(args) -> str:
    from dask.base import tokenize  # dask is the optional [dask] extra

    return tokenize(*args)
