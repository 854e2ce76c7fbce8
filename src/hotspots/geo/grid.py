"""The analysis grid: square cells (metres, in the working CRS, default EPSG:27700) over the study area.

Cells are aligned to multiples of the cell size in the working CRS (the
British National Grid by default), so the same cell size over the same area
always gives the same cell ids.
``cell_id = row * ncols + col`` with row 0 at the *top* (north), as in a
GeoTIFF. ``mask`` marks the cells that touch the study area; every array the
engine produces on the grid has shape ``(nrows, ncols)`` and is only meaningful
where ``mask`` is true.

Which cell a point is in (one rule, :mod:`hotspots.geo._binning`)
    Coordinates, the grid corner and the cell size are taken in whole
    millimetres, so the answer never depends on a floating-point residue. Cells
    are half-open, ``[x0, x0 + size)`` across and ``(y0 - size, y0]`` down, with
    ``(x0, y0)`` a cell's top-left corner: a point exactly on a vertical grid line
    belongs to the cell east of it, a point exactly on a horizontal line to the
    cell south of it (the GeoTIFF / rasterio ``rowcol`` convention). Cell sizes
    must be whole millimetres.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from shapely.geometry.base import BaseGeometry

from ..announce import choose
from ..crs import DEFAULT_CRS
from ..errors import ConfigError
from ._binning import RESOLUTION_M, bin_points


def auto_cell_size(width_m: float, height_m: float, cells_on_short_side: int = 100, step_m: float = 25.0) -> float:
    """Default cell size: about ``cells_on_short_side`` cells across the short side,
    rounded to a multiple of ``step_m`` metres (never below ``step_m``)."""
    short = min(width_m, height_m)
    return float(max(step_m, round(short / cells_on_short_side / step_m) * step_m))


def _near_outline(boundary: BaseGeometry, x0: float, y1: float, cs: float, nrows: int, ncols: int) -> np.ndarray:
    """Cells (shape (nrows, ncols)) whose square may touch the outline of ``boundary``: every cell
    meeting the bounding box of an outline segment, widened by one cell on each side so rounding
    in the cell arithmetic can only add cells (metres, the grid's CRS; top-left corner ``x0, y1``)."""
    rings = shapely.get_rings(shapely.get_parts(boundary))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    seg = np.flatnonzero(ring[:-1] == ring[1:])  # consecutive vertices of one ring
    a, b = xy[seg], xy[seg + 1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    c0 = np.clip(np.floor((lo[:, 0] - x0) / cs).astype(np.int64) - 1, 0, ncols)
    c1 = np.clip(np.floor((hi[:, 0] - x0) / cs).astype(np.int64) + 2, 0, ncols)
    r0 = np.clip(np.floor((y1 - hi[:, 1]) / cs).astype(np.int64) - 1, 0, nrows)
    r1 = np.clip(np.floor((y1 - lo[:, 1]) / cs).astype(np.int64) + 2, 0, nrows)
    # mark the rectangles rows r0..r1-1 x cols c0..c1-1 at once: a 2-D difference array, summed twice
    diff = np.zeros((nrows + 1, ncols + 1), dtype=np.int64)
    np.add.at(diff, (r0, c0), 1)
    np.add.at(diff, (r0, c1), -1)
    np.add.at(diff, (r1, c0), -1)
    np.add.at(diff, (r1, c1), 1)
    return (diff.cumsum(axis=0).cumsum(axis=1) > 0)[:nrows, :ncols]


def inside_fractions(boundary: BaseGeometry, x0: float, y1: float, cs: float, nrows: int, ncols: int) -> np.ndarray:
    """Share of each cell's area inside ``boundary`` (0..1), shape (nrows, ncols); cells of ``cs``
    metres from the top-left corner ``x0, y1`` (metres, the boundary's CRS).

    The rule (the one every grid uses): 1 where the square lies in the boundary's interior
    (``contains_properly``), the clipped area over the cell area where it meets the boundary
    otherwise, else 0. Only cells near the outline (:func:`_near_outline`) are tested
    square by square; any other square cannot touch the outline, so it lies wholly inside or
    wholly outside and its centre tells which. This gives exactly the values of testing every square.
    """
    shapely.prepare(boundary)
    frac = np.zeros((nrows, ncols))
    near = _near_outline(boundary, x0, y1, cs, nrows, ncols)
    rows, cols = np.nonzero(~near)
    frac[rows, cols] = shapely.contains_xy(boundary, x0 + (cols + 0.5) * cs, y1 - (rows + 0.5) * cs)
    rows, cols = np.nonzero(near)
    boxes = shapely.box(x0 + cols * cs, y1 - (rows + 1) * cs, x0 + (cols + 1) * cs, y1 - rows * cs)
    hit = shapely.intersects(boundary, boxes)
    inside = shapely.contains_properly(boundary, boxes)
    edge = hit & ~inside
    value = inside.astype(float)
    if edge.any():
        value[edge] = shapely.area(shapely.intersection(boundary, boxes[edge])) / (cs * cs)
    frac[rows, cols] = value
    return frac


def inside_mask(boundary: BaseGeometry, x0: float, y1: float, cs: float, nrows: int, ncols: int) -> np.ndarray:
    """Cells (bool, shape (nrows, ncols)) with part of their area inside ``boundary``: exactly
    ``inside_fractions(...) > 0`` without clipping any square (same arguments, metres).

    A square near the outline has area inside when it lies in the interior, or when it meets the
    boundary other than only along its outline (``touches``: interiors apart); both tests are
    predicates on the prepared boundary, far quicker than clipping the square to measure its area.
    """
    shapely.prepare(boundary)
    mask = np.zeros((nrows, ncols), dtype=bool)
    near = _near_outline(boundary, x0, y1, cs, nrows, ncols)
    rows, cols = np.nonzero(~near)
    mask[rows, cols] = shapely.contains_xy(boundary, x0 + (cols + 0.5) * cs, y1 - (rows + 0.5) * cs)
    rows, cols = np.nonzero(near)
    boxes = shapely.box(x0 + cols * cs, y1 - (rows + 1) * cs, x0 + (cols + 1) * cs, y1 - rows * cs)
    inside = shapely.contains_properly(boundary, boxes)
    edge = shapely.intersects(boundary, boxes) & ~inside
    mask[rows, cols] = inside | (edge & ~shapely.touches(boundary, boxes))
    return mask


@dataclass(frozen=True, eq=False)
class Grid:
    """Square-cell raster over a study area (working CRS, metres).

    Attributes
    ----------
    cell_size : float
        Cell side in metres.
    xmin, ymax : float
        Top-left corner of the grid in metres.
    ncols, nrows : int
        Grid shape.
    mask : ndarray of bool, shape (nrows, ncols)
        True where the cell intersects the study-area boundary.
    inside_fraction : ndarray of float, shape (nrows, ncols), or None
        Share of each cell's area inside the boundary (0..1); None for a grid built with
        ``fractions=False`` (then :meth:`cell_fractions` measures it when asked).
    """

    cell_size: float
    xmin: float
    ymax: float
    ncols: int
    nrows: int
    mask: np.ndarray
    inside_fraction: np.ndarray | None
    boundary: BaseGeometry | None = field(default=None, repr=False)  # in ``crs``
    crs: str = DEFAULT_CRS
    choices: Mapping[str, str] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------- construction
    @classmethod
    def from_boundary(
        cls, boundary: BaseGeometry, cell_size_m: float = 0.0, crs: str = DEFAULT_CRS, fractions: bool = True
    ) -> Grid:
        """Build a grid over a shapely polygon whose coordinates are metres in ``crs``.

        ``fractions=False`` leaves ``inside_fraction`` unmeasured (None) and finds the same ``mask``
        by predicates alone (:func:`inside_mask`), for grids that need only their mask (the
        robustness sweep's).

        ``cell_size_m`` 0 chooses :func:`auto_cell_size` and announces it (see
        :mod:`hotspots.announce`; recorded in ``choices``). A cell size larger
        than the boundary's short side is a :class:`ConfigError`.
        """
        minx, miny, maxx, maxy = boundary.bounds
        w, h = maxx - minx, maxy - miny
        choices: dict[str, str] = {}
        if cell_size_m <= 0:
            cell_size_m = auto_cell_size(w, h)
            choose(
                choices,
                "cell_size_m",
                f"grid cell size chosen automatically: {cell_size_m:g} m (about 100 "
                f"cells across the study area's short side of {min(w, h):,.0f} m)",
            )
        if cell_size_m > min(w, h):
            raise ConfigError(
                f"[grid] cell_size_m = {cell_size_m:g} m is larger than the study area's short side "
                f"({min(w, h):.0f} m); choose a smaller cell size (0 = automatic)."
            )
        cs = float(cell_size_m)
        if abs(cs / RESOLUTION_M - round(cs / RESOLUTION_M)) > 1e-6:
            raise ConfigError(
                f"[grid] cell_size_m = {cell_size_m!r} m is not a whole number of millimetres; "
                "points are binned in millimetres, so choose e.g. 100 or 62.5."
            )
        x0 = math.floor(minx / cs) * cs
        y1 = math.ceil(maxy / cs) * cs
        ncols = int(math.ceil((maxx - x0) / cs))
        nrows = int(math.ceil((y1 - miny) / cs))
        if not fractions:
            mask = inside_mask(boundary, x0, y1, cs, nrows, ncols)
            return cls(cs, float(x0), float(y1), ncols, nrows, mask, None, boundary, crs, dict(choices))
        frac = inside_fractions(boundary, x0, y1, cs, nrows, ncols)
        mask = frac > 0
        return cls(cs, float(x0), float(y1), ncols, nrows, mask, frac, boundary, crs, dict(choices))

    # ----------------------------------------------------------- geometry
    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def transform(self) -> Any:
        """The affine transform (rasterio/GeoTIFF convention, north-up)."""
        return Affine(self.cell_size, 0.0, self.xmin, 0.0, -self.cell_size, self.ymax)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.xmin, self.ymax - self.nrows * self.cell_size, self.xmin + self.ncols * self.cell_size, self.ymax)

    def cell_fractions(self) -> np.ndarray:
        """Share of each cell's area inside the boundary (0..1, shape (nrows, ncols)): ``inside_fraction``,
        measured from the boundary when the grid was built without it (1 on the mask without a boundary)."""
        if self.inside_fraction is not None:
            return self.inside_fraction
        if self.boundary is None:
            return self.mask.astype(float)
        return inside_fractions(self.boundary, self.xmin, self.ymax, self.cell_size, self.nrows, self.ncols)

    @property
    def cell_area_m2(self) -> float:
        return self.cell_size * self.cell_size

    @property
    def n_cells(self) -> int:
        return int(self.mask.sum())

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates, each of shape (nrows, ncols), metres."""
        cols, rows = np.meshgrid(np.arange(self.ncols), np.arange(self.nrows))
        xc = self.xmin + (cols + 0.5) * self.cell_size
        yc = self.ymax - (rows + 0.5) * self.cell_size
        return xc, yc

    @property
    def cell_ids(self) -> np.ndarray:
        """Stable cell ids, shape (nrows, ncols)."""
        return np.arange(self.nrows * self.ncols, dtype=np.int64).reshape(self.shape)

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of each point (metres, the grid's CRS); -1 for points off the grid or not finite.

        A point on a vertical grid line belongs to the cell east of it, on a horizontal
        line to the cell south of it; coordinates are compared in whole millimetres
        (see the module docstring)."""
        # contiguous, writeable float64 (a read-only view is copied): the kernel compiles one signature
        x = np.require(np.ravel(x), np.float64, ["C", "W"])
        y = np.require(np.ravel(y), np.float64, ["C", "W"])
        return bin_points(
            x, y, float(self.xmin), float(self.ymax), float(self.cell_size), int(self.nrows), int(self.ncols)
        )

    def counts(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` (default 1) of the points in each cell, shape (nrows, ncols)."""
        row, col = self.cell_index(x, y)
        ok = row >= 0
        w = np.ones(ok.sum()) if weights is None else np.asarray(weights, dtype=float)[ok]
        out = np.zeros(self.nrows * self.ncols)
        np.add.at(out, row[ok] * self.ncols + col[ok], w)
        return out.reshape(self.shape)

    def cell_polygons(self, clip: bool = False) -> np.ndarray:
        """Shapely boxes of the masked cells (clipped to the boundary if ``clip``), in cell-id order.

        Clipped, a square lying in the boundary's interior is its own intersection with the boundary,
        which GEOS writes clockwise from its south-west corner: it is built so directly (the same
        coordinates, in the same order) and only the squares on the outline are intersected."""
        rows, cols = np.nonzero(self.mask)
        cs = self.cell_size
        x0, y0 = self.xmin + cols * cs, self.ymax - (rows + 1) * cs
        x1, y1 = self.xmin + (cols + 1) * cs, self.ymax - rows * cs
        boxes = shapely.box(x0, y0, x1, y1)
        if clip and self.boundary is not None:
            shapely.prepare(self.boundary)
            inside = shapely.contains_properly(self.boundary, boxes)
            clipped = np.empty(len(boxes), dtype=object)
            clipped[inside] = shapely.box(x0[inside], y0[inside], x1[inside], y1[inside], ccw=False)
            clipped[~inside] = shapely.intersection(boxes[~inside], self.boundary)
            boxes = clipped
        return boxes

    def to_frame(self, clip: bool = False, **arrays: np.ndarray) -> Any:
        """GeoDataFrame of the masked cells: ``cell_id, row, col, geometry`` plus one
        column per keyword array (each of shape (nrows, ncols))."""
        rows, cols = np.nonzero(self.mask)
        data = {"cell_id": rows * self.ncols + cols, "row": rows, "col": cols}
        for name, arr in arrays.items():
            arr = np.asarray(arr)
            if arr.shape != self.shape:
                raise ValueError(f"array {name!r} has shape {arr.shape}, grid is {self.shape}")
            data[name] = arr[rows, cols]
        return gpd.GeoDataFrame(data, geometry=self.cell_polygons(clip=clip), crs=self.crs)

    def geotiff_profile(self, dtype: str, nodata: float) -> dict[str, object]:
        """The rasterio creation options of a single-band, deflate-compressed GeoTIFF of this grid (its CRS,
        transform and shape) with values of ``dtype`` and ``nodata`` outside the study area."""
        return {
            "driver": "GTiff",
            "height": self.nrows,
            "width": self.ncols,
            "count": 1,
            "dtype": dtype,
            "crs": self.crs,
            "transform": self.transform,
            "nodata": nodata,
            "compress": "deflate",
        }

    def write_geotiff(
        self, path: str | Path, array: np.ndarray, nodata: float = -9999.0, description: str = "", units: str = ""
    ) -> Path:
        """Write a (nrows, ncols) array as a single-band float32 GeoTIFF in the grid's CRS,
        with ``nodata`` outside the study area; ``description`` and ``units`` label the band."""
        arr = np.asarray(array, dtype="float32").copy()
        if arr.shape != self.shape:
            raise ValueError(f"array has shape {arr.shape}, grid is {self.shape}")
        arr[~self.mask] = nodata
        arr[~np.isfinite(arr)] = nodata
        path = Path(path)
        with rasterio.open(path, "w", **self.geotiff_profile("float32", nodata)) as dst:
            dst.write(arr, 1)
            if description:
                dst.set_band_description(1, description)
            if units:
                dst.set_band_unit(1, units)
        return path
