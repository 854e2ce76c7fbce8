"""Exposure covariates per grid cell: where there is something to burgle, and who is watching.

Crime needs targets: a cell with no homes has no residential burglary whatever its past.
These functions turn open context data into static per-cell features on a
:class:`~hotspots.geo.grid.Grid` (inputs as GeoDataFrames in the grid's CRS, metres, or
arrays; every parameter explicit), returned as an :class:`ExposureFeatures` that the
learned model uses when given (``CellContext(exposure=...)``, :mod:`.features`):

* :func:`address_density` - unit-postcode centroids (Code-Point Open: about 15 delivery
  points each) per cell and smoothed per km²: an address-density proxy;
* :func:`households_per_cell` - households of statistical areas (LSOAs) spread over the
  postcode centroids inside each area (or over its area when none), summed per cell;
* :func:`distance_to` - metres from each cell centre to the nearest feature (town centres,
  main roads, pubs);
* :func:`camera_coverage` - cameras within a radius of each cell centre and the distance to
  the nearest one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from ..analysis.density import density_surface
from ..errors import InputError


@dataclass(frozen=True, eq=False)
class ExposureFeatures:
    """Named static features per cell: ``values`` has shape (len(names), nrows, ncols)."""

    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self):
        if self.values.ndim != 3 or self.values.shape[0] != len(self.names):
            raise InputError(f"ExposureFeatures: {len(self.names)} names for values of shape {self.values.shape}.")

    def __len__(self) -> int:
        return len(self.names)

    def select(self, names) -> ExposureFeatures:
        """Only the features named (in that order)."""
        idx = [self.names.index(n) for n in names]
        return ExposureFeatures(tuple(names), self.values[idx])

    def to_frame(self, grid):
        """GeoDataFrame of the grid's masked cells with one column per feature."""
        return grid.to_frame(**{n: v for n, v in zip(self.names, self.values, strict=True)})


def combine(*features: ExposureFeatures) -> ExposureFeatures:
    """One set holding all the features of several (names must not repeat)."""
    names = tuple(n for f in features for n in f.names)
    if len(set(names)) != len(names):
        raise InputError(f"exposure features repeat a name: {names}")
    return ExposureFeatures(names, np.concatenate([f.values for f in features], axis=0))


def _xy(points) -> tuple[np.ndarray, np.ndarray]:
    geoms = points.geometry
    if not (geoms.geom_type == "Point").all():
        raise InputError("exposure inputs must be points here (e.g. postcode centroids, cameras).")
    return geoms.x.to_numpy(float), geoms.y.to_numpy(float)


def _check_crs(gdf, grid, what: str) -> None:
    if gdf.crs is None:
        raise InputError(f"{what} has no CRS; set it (the grid is in {grid.crs}).")
    if gdf.crs != grid.crs and str(gdf.crs.to_string()) != str(grid.crs):
        raise InputError(
            f"{what} is in {gdf.crs.to_string()}, the grid in {grid.crs}; reproject it with "
            f".to_crs({grid.crs!r}) first."
        )


def address_density(postcodes, grid, radius_m: float = 200.0, prefix: str = "postcodes") -> ExposureFeatures:
    """Postcode centroids per cell (``<prefix>_per_cell``) and their quartic-kernel density within
    ``radius_m`` metres (``<prefix>_per_km2_<radius>m``), from a GeoDataFrame of points."""
    _check_crs(postcodes, grid, "the postcode layer")
    x, y = _xy(postcodes)
    per_cell = grid.counts(x, y)
    dens = np.nan_to_num(density_surface(x, y, grid, float(radius_m))) if x.size else np.zeros(grid.shape)
    return ExposureFeatures((f"{prefix}_per_cell", f"{prefix}_per_km2_{radius_m:g}m"), np.stack([per_cell, dens]))


def households_per_cell(areas, value_column: str, grid, points=None, name: str = "households") -> ExposureFeatures:
    """Households (or any count) of statistical areas spread into cells.

    ``areas``: polygons with ``value_column``. With ``points`` (e.g. postcode centroids), each
    area's value is split equally among the points inside it; an area without points is spread
    evenly over its surface (as it is without ``points``). Returns ``<name>_per_cell``; the total
    over the grid equals the areas' total inside it.
    """
    _check_crs(areas, grid, "the area layer")
    if value_column not in areas.columns:
        raise InputError(f"the area layer has no column {value_column!r}; columns: {list(areas.columns)}")
    vals = areas[value_column].to_numpy(float)
    if np.any(~np.isfinite(vals)) or np.any(vals < 0):
        raise InputError(f"{value_column!r} must be a non-negative number for every area.")
    out = np.zeros(grid.shape)
    geoms = areas.geometry.to_numpy()
    spread = np.ones(len(areas), dtype=bool)
    if points is not None and len(points):
        _check_crs(points, grid, "the point layer")
        px, py = _xy(points)
        tree = shapely.STRtree(geoms)
        pi, ai = tree.query(shapely.points(px, py), predicate="within")
        # a point on a shared edge counts in one area only (the first)
        first = np.unique(pi, return_index=True)[1]
        pi, ai = pi[first], ai[first]
        n_in = np.bincount(ai, minlength=len(areas))
        has = n_in > 0
        w = vals[ai] / n_in[ai]
        out += grid.counts(px[pi], py[pi], w)
        spread = ~has
    if spread.any():
        cells = grid.cell_polygons()
        rows, cols = np.nonzero(grid.mask)
        tree = shapely.STRtree(cells)
        for a in np.flatnonzero(spread):
            g = geoms[a]
            if g is None or g.is_empty or vals[a] == 0:
                continue
            hit = tree.query(g, predicate="intersects")
            if hit.size == 0:
                continue
            share = shapely.area(shapely.intersection(cells[hit], g)) / g.area
            np.add.at(out, (rows[hit], cols[hit]), vals[a] * share)
    return ExposureFeatures((f"{name}_per_cell",), out[None])


def distance_to(features, grid, name: str) -> ExposureFeatures:
    """Metres from each cell centre to the nearest of ``features`` (any geometries): ``dist_<name>_m``."""
    _check_crs(features, grid, f"the {name} layer")
    geoms = np.asarray([g for g in features.geometry if g is not None and not g.is_empty])
    if geoms.size == 0:
        raise InputError(f"the {name} layer has no geometries.")
    xc, yc = grid.centres()
    pts = shapely.points(xc.ravel(), yc.ravel())
    _idx, dist = shapely.STRtree(geoms).query_nearest(pts, return_distance=True, all_matches=False)
    return ExposureFeatures((f"dist_{name}_m",), np.asarray(dist, dtype=float).reshape(grid.shape)[None])


def camera_coverage(cameras, grid, radius_m: float = 100.0, name: str = "cameras") -> ExposureFeatures:
    """Cameras within ``radius_m`` metres of each cell centre (``<name>_within_<r>m``) and the
    distance to the nearest (``dist_<name>_m``)."""
    _check_crs(cameras, grid, f"the {name} layer")
    x, y = _xy(cameras)
    if x.size == 0:
        raise InputError(f"the {name} layer has no points.")
    xc, yc = grid.centres()
    tree = cKDTree(np.c_[x, y])
    q = np.c_[xc.ravel(), yc.ravel()]
    within = np.array([len(v) for v in tree.query_ball_point(q, r=float(radius_m))], dtype=float)
    dist, _ = tree.query(q)
    return ExposureFeatures(
        (f"{name}_within_{radius_m:g}m", f"dist_{name}_m"),
        np.stack([within.reshape(grid.shape), dist.reshape(grid.shape)]),
    )
