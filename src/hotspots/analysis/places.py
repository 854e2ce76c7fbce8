"""Places that incidents are counted at: grid cells, snap points, polygons, street segments.

The law of crime concentration is a statement about *places*, and every place
counts, including the many with no incident at all. A :class:`Places` object is
the fixed list of places an analysis runs over (EPSG:27700, metres); its
:meth:`Places.locate` says which place each incident belongs to, and
:meth:`Places.totals` sums counts or harm per place, zeros included.

Four kinds, one constructor each:

* :func:`grid_places` - the masked cells of an analysis :class:`~hotspots.geo.grid.Grid`
  (the default unit; each cell's area is the part inside the study area).
* :func:`snap_point_places` - distinct x/y points. police.uk publishes every
  crime at one of a fixed set of anonymised "snap points" (month precision), so
  the distinct locations of the incidents are the places. Build them from the
  incidents of the *whole* period you analyse, so that a snap point with no
  crime in one year still counts as a place in that year.
* :func:`polygon_places` - any polygons (LSOAs, estates, town centres, wards).
* :func:`segment_places` - street segments (lines); each incident goes to the
  nearest segment within ``max_distance_m`` metres (for data snapped to streets).

An incident that falls at no place (outside every polygon, beyond the distance
to any segment or snap point, or off the grid) gets index -1; functions that
use places report how many incidents that was, never dropping them silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from ..errors import InputError
from ..geo.grid import Grid

KINDS = ("grid cells", "snap points", "polygons", "street segments")


@dataclass(frozen=True, eq=False)
class Places:
    """A fixed list of places (EPSG:27700).

    Attributes
    ----------
    kind : str
        ``"grid cells"``, ``"snap points"``, ``"polygons"`` or ``"street segments"``.
    ids : ndarray (n,)
        Place ids: grid ``cell_id`` (row * ncols + col), a running number for snap
        points, the given id column (or row number) for polygons and segments.
    x, y : ndarray (n,)
        A representative point of each place in metres (cell centre, the snap
        point itself, a point inside each polygon, the middle of each segment).
    area_m2 : ndarray (n,) or None
        Area of each place in square metres inside the study area (grid cells,
        polygons); None for points and lines, which have no area.
    description : str
        What the places are, in plain words (for tables and pages).
    notes : tuple of str
        Anything the caller should know (e.g. points that look unsnapped).
    """

    kind: str
    ids: np.ndarray
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    area_m2: npt.NDArray[np.float64] | None
    description: str
    notes: tuple[str, ...] = ()
    grid: Grid | None = field(default=None, repr=False)  # grid cells
    geometry: npt.NDArray[np.object_] | None = field(default=None, repr=False)  # shapely array (polygons, segments)
    tolerance_m: float = 0.0

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def locate(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index (0..n-1) of the place each point (x, y metres) belongs to; -1 for none."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if x.shape != y.shape:
            raise InputError(f"x and y differ in length ({x.size} vs {y.size}).")
        if self.kind == "grid cells":
            if self.grid is None:
                raise InputError("grid-cell places need their grid; build them with grid_places(grid).")
            return _locate_grid(self.grid, x, y)
        if self.kind == "snap points":
            return _locate_points(self.x, self.y, x, y, self.tolerance_m)
        if self.geometry is None:
            raise InputError(
                f"{self.kind} places need their geometries; build them with polygon_places or segment_places."
            )
        if self.kind == "polygons":
            return _locate_polygons(self.geometry, x, y)
        return _locate_segments(self.geometry, x, y, self.tolerance_m)

    def totals(
        self, x: npt.ArrayLike, y: npt.ArrayLike, weights: npt.ArrayLike | None = None
    ) -> tuple[npt.NDArray[np.float64], int]:
        """Sum of ``weights`` (default 1 per point) at each place, and the number of
        points that fell at no place. Places with nothing get 0."""
        idx = self.locate(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        return np.bincount(idx[ok], weights=w, minlength=self.n).astype(float), int((~ok).sum())

    def wards(self, wards: gpd.GeoDataFrame) -> npt.NDArray[np.object_]:
        """Ward code of each place: the ward containing its representative point,
        else the nearest ward (for snap points on a boundary road just outside).

        ``wards`` is a GeoDataFrame with ``ward_code`` and polygons in EPSG:27700.
        """
        _require_bng(wards, "wards")
        if "ward_code" not in wards.columns:
            raise InputError(f"wards need a 'ward_code' column; found {list(wards.columns)}.")
        geoms = np.asarray(wards.geometry.values)
        codes = wards["ward_code"].astype(str).to_numpy()
        pts = np.asarray(shapely.points(self.x, self.y), dtype=object)  # the stubs allow a scalar Point
        tree = shapely.STRtree(geoms)
        pi, gi = tree.query(pts, predicate="within")
        out = np.full(self.n, "", dtype=object)
        first = np.full(self.n, -1, dtype=np.int64)
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        keep = np.ones(pi.size, dtype=bool)
        keep[1:] = pi[1:] != pi[:-1]
        first[pi[keep]] = gi[keep]
        miss = np.nonzero(first < 0)[0]
        if miss.size:
            mi, mg = tree.query_nearest(pts[miss], all_matches=False)
            first[miss[mi]] = mg
        out[first >= 0] = codes[first[first >= 0]]
        return out


def _require_bng(gdf: gpd.GeoDataFrame, what: str) -> None:
    crs = gdf.crs
    if crs is None:
        raise InputError(f"{what} have no CRS; set it (e.g. gdf.set_crs(27700)) before using them as places.")
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise InputError(
            f"{what} are in {crs.to_string()}, not metres; reproject them with "
            "gdf.to_crs(27700) (British National Grid) first."
        )


# --------------------------------------------------------------------------- constructors
def grid_places(grid: Grid) -> Places:
    """The masked cells of ``grid``; area is each cell's area inside the study area (m²)."""
    rows, cols = np.nonzero(grid.mask)
    xc, yc = grid.centres()
    area = grid.cell_fractions()[rows, cols] * grid.cell_area_m2
    return Places(
        kind="grid cells",
        ids=(rows * grid.ncols + cols).astype(np.int64),
        x=xc[rows, cols],
        y=yc[rows, cols],
        area_m2=area,
        grid=grid,
        description=f"{rows.size:,} grid cells of {grid.cell_size:g} m",
    )


def _locate_grid(grid: Grid, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    r, c = grid.cell_index(x, y)
    site = np.full(grid.shape, -1, dtype=np.int64)
    rows, cols = np.nonzero(grid.mask)
    site[rows, cols] = np.arange(rows.size)
    out = np.full(x.size, -1, dtype=np.int64)
    ok = r >= 0
    out[ok] = site[r[ok], c[ok]]
    return out


def snap_point_places(x: npt.ArrayLike, y: npt.ArrayLike, precision_m: float = 0.1) -> Places:
    """Distinct points (x, y metres) as places, e.g. police.uk snap points.

    Points closer than ``precision_m`` metres on both axes (after rounding to that
    precision) are one place; incidents are later matched to the nearest place
    within ``precision_m``. Ids are 0..n-1 in x-then-y order, so the same
    incidents always give the same ids.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise InputError(f"x and y differ in length ({x.size} vs {y.size}).")
    if not precision_m > 0:
        raise InputError(f"precision_m must be a positive number of metres, got {precision_m!r}.")
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise InputError("no points with finite x/y to make snap-point places from.")
    key = np.round(np.column_stack([x[ok], y[ok]]) / precision_m).astype(np.int64)
    uniq = np.unique(key, axis=0)
    px = np.asarray(uniq[:, 0] * precision_m, dtype=np.float64)
    py = np.asarray(uniq[:, 1] * precision_m, dtype=np.float64)
    notes = []
    if uniq.shape[0] > 0.8 * ok.sum() and ok.sum() >= 50:
        notes.append(
            f"{uniq.shape[0]:,} distinct locations for {int(ok.sum()):,} incidents: most incidents have "
            "their own location, so these look like exact locations rather than snap points; "
            "grid cells or street segments may be better places."
        )
    return Places(
        kind="snap points",
        ids=np.arange(uniq.shape[0], dtype=np.int64),
        x=px,
        y=py,
        area_m2=None,
        description=f"{uniq.shape[0]:,} distinct incident locations (snap points)",
        notes=tuple(notes),
        tolerance_m=float(precision_m),
    )


def _locate_points(
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    tol: float,
) -> npt.NDArray[np.int64]:
    out = np.full(x.size, -1, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return out
    d, i = cKDTree(np.column_stack([px, py])).query(np.column_stack([x[ok], y[ok]]), k=1)
    hit = d <= tol
    sel = np.nonzero(ok)[0]
    out[sel[hit]] = i[hit]
    return out


def polygon_places(polygons: gpd.GeoDataFrame, id_column: str | None = None, description: str = "") -> Places:
    """Polygons of a GeoDataFrame (projected, metres; EPSG:27700 in the engine) as places.

    A point on a shared boundary, or inside overlapping polygons, belongs to the
    first polygon (lowest row) that covers it. Ids come from ``id_column``
    (default: the row number).
    """
    _require_bng(polygons, "the place polygons")
    geoms = np.asarray(polygons.geometry.values)
    kinds = set(shapely.get_type_id(geoms).tolist())
    if not kinds <= {3, 6}:  # Polygon, MultiPolygon
        raise InputError(
            "polygon places need Polygon or MultiPolygon geometries; use segment_places for lines "
            "and snap_point_places for points."
        )
    if id_column is not None and id_column not in polygons.columns:
        raise InputError(f"id column {id_column!r} is not in the polygons; columns: {list(polygons.columns)}.")
    ids = polygons[id_column].to_numpy() if id_column else np.arange(len(polygons), dtype=np.int64)
    rep = shapely.point_on_surface(geoms)
    return Places(
        kind="polygons",
        ids=ids,
        x=shapely.get_x(rep),
        y=shapely.get_y(rep),
        area_m2=shapely.area(geoms).astype(float),
        geometry=geoms,
        description=description or f"{len(geoms):,} polygons",
    )


def _locate_polygons(
    geoms: npt.NDArray[np.object_], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    out = np.full(x.size, -1, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    sel = np.nonzero(ok)[0]
    pts = np.asarray(shapely.points(x[ok], y[ok]), dtype=object)  # the stubs allow a scalar Point
    gi, pi = shapely.STRtree(pts).query(geoms, predicate="covers")
    order = np.lexsort((gi, pi))  # per point, lowest polygon first
    pi, gi = pi[order], gi[order]
    keep = np.ones(pi.size, dtype=bool)
    keep[1:] = pi[1:] != pi[:-1]
    out[sel[pi[keep]]] = gi[keep]
    return out


def segment_places(
    lines: gpd.GeoDataFrame, id_column: str | None = None, max_distance_m: float = 25.0, description: str = ""
) -> Places:
    """Street segments (LineString geometries, projected metres) as places.

    Each incident goes to the nearest segment within ``max_distance_m`` metres
    (ties: the lowest row); farther incidents are at no place.
    """
    _require_bng(lines, "the street segments")
    geoms = np.asarray(lines.geometry.values)
    if not set(shapely.get_type_id(geoms).tolist()) <= {1, 5}:  # LineString, MultiLineString
        raise InputError("street segments need LineString geometries.")
    if not max_distance_m > 0:
        raise InputError(f"max_distance_m must be a positive number of metres, got {max_distance_m!r}.")
    if id_column is not None and id_column not in lines.columns:
        raise InputError(f"id column {id_column!r} is not in the segments; columns: {list(lines.columns)}.")
    ids = lines[id_column].to_numpy() if id_column else np.arange(len(lines), dtype=np.int64)
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    return Places(
        kind="street segments",
        ids=ids,
        x=shapely.get_x(mid),
        y=shapely.get_y(mid),
        area_m2=None,
        geometry=geoms,
        tolerance_m=float(max_distance_m),
        description=description or f"{len(geoms):,} street segments",
    )


def _locate_segments(
    geoms: npt.NDArray[np.object_], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], max_d: float
) -> npt.NDArray[np.int64]:
    out = np.full(x.size, -1, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    sel = np.nonzero(ok)[0]
    pts = shapely.points(x[ok], y[ok])
    pi, gi = shapely.STRtree(geoms).query_nearest(pts, max_distance=max_d, all_matches=True)
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    keep = np.ones(pi.size, dtype=bool)
    keep[1:] = pi[1:] != pi[:-1]
    out[sel[pi[keep]]] = gi[keep]
    return out
