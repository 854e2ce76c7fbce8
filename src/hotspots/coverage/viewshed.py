"""Camera viewsheds: geometric sectors, clipped by line of sight over an obstruction raster.

A camera sees the ground within its range (metres) and field of view (degrees,
centred on its bearing, clockwise from grid north). Where an obstruction raster
(building heights or a DSM, metres, working CRS) is given, a target point is
seen only if the straight line from the camera (surface + mounting height,
default 6 m) to the target (surface + target height, default 1.5 m) clears
every raster pixel between them. The ray casting runs in numba
(:mod:`hotspots.coverage._kernels`).

Everything is in the working CRS (metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio import features
from shapely.geometry import Point, Polygon

from .._util import kernel_array
from ..crs import DEFAULT_CRS, crs_label, same_crs
from ..errors import InputError
from . import _kernels as K


@dataclass(frozen=True, eq=False)
class Obstruction:
    """A surface-height raster (metres) with its top-left corner and pixel size (working CRS, metres)."""

    heights: np.ndarray  # (nrows, ncols) float64, row 0 north; NaN = no data (treated as 0)
    x0: float
    ytop: float
    cell_size: float
    source: str = ""

    @classmethod
    def from_geotiff(cls, path: str | Path, crs: str = DEFAULT_CRS) -> Obstruction:
        """Read a single-band GeoTIFF (square pixels, north-up, in ``crs``) of surface heights in metres."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"obstruction raster {path} does not exist; fix [cameras] obstruction.")
        try:
            with rasterio.open(path) as src:
                if src.crs is None or not same_crs(src.crs.to_wkt(), crs):
                    raise InputError(
                        f"{path}: obstruction raster must be in {crs_label(crs)} (got {src.crs}); "
                        f"reproject it, e.g. gdalwarp -t_srs {crs_label(crs)}."
                    )
                t = src.transform
                if abs(t.b) > 1e-9 or abs(t.d) > 1e-9 or t.e >= 0 or abs(abs(t.a) - abs(t.e)) > 1e-6 * abs(t.a):
                    raise InputError(
                        f"{path}: obstruction raster must be north-up with square pixels (transform {tuple(t)[:6]})."
                    )
                arr = src.read(1, masked=True).astype("float64").filled(np.nan)
        except rasterio.errors.RasterioIOError as exc:
            raise InputError(f"{path}: cannot read obstruction raster ({exc}).") from exc
        return cls(arr, float(t.c), float(t.f), float(t.a), str(path))

    @classmethod
    def flat(cls, bounds: tuple[float, float, float, float], cell_size: float) -> Obstruction:
        """An all-zero raster over ``bounds`` (xmin, ymin, xmax, ymax), for flat-ground viewsheds."""
        xmin, ymin, xmax, ymax = bounds
        nc = int(math.ceil((xmax - xmin) / cell_size))
        nr = int(math.ceil((ymax - ymin) / cell_size))
        return cls(np.zeros((nr, nc)), float(xmin), float(ymax), float(cell_size), "flat")

    @property
    def shape(self):
        return self.heights.shape

    @property
    def transform(self):
        return Affine(self.cell_size, 0.0, self.x0, 0.0, -self.cell_size, self.ytop)


def _cam_arrays(cameras, mount_height_m: float):
    cx = kernel_array(cameras["x"].to_numpy(dtype=float), np.float64)
    cy = kernel_array(cameras["y"].to_numpy(dtype=float), np.float64)
    rng = kernel_array(cameras["range_m"].to_numpy(dtype=float), np.float64)
    brg = kernel_array(cameras["bearing_deg"].to_numpy(dtype=float), np.float64)
    fov = kernel_array(cameras["fov_deg"].to_numpy(dtype=float), np.float64)
    mh = kernel_array(
        cameras["mount_height_m"].to_numpy(dtype=float)
        if "mount_height_m" in cameras.columns
        else np.full(len(cx), float(mount_height_m)),
        np.float64,
    )
    return cx, cy, rng, brg, fov, mh


def _raster_args(obstruction: Obstruction | None):
    if obstruction is None:
        return np.zeros((1, 1)), 0.0, 0.0, 1.0, False
    return (
        kernel_array(obstruction.heights, np.float64),
        float(obstruction.x0),
        float(obstruction.ytop),
        float(obstruction.cell_size),
        True,
    )


def sector_polygon(x: float, y: float, range_m: float, bearing_deg: float, fov_deg: float, step_deg: float = 2.0):
    """The geometric viewshed of one camera on flat ground (shapely polygon, working CRS)."""
    if fov_deg >= 360:
        return Point(x, y).buffer(range_m, quad_segs=45)
    n = max(2, int(math.ceil(fov_deg / step_deg)) + 1)
    angs = np.radians(np.linspace(bearing_deg - fov_deg / 2, bearing_deg + fov_deg / 2, n))
    ring = [(x, y), *zip(x + range_m * np.sin(angs), y + range_m * np.cos(angs), strict=True), (x, y)]
    return Polygon(ring)


def visibility_pairs(
    cameras, x, y, obstruction: Obstruction | None = None, mount_height_m: float = 6.0, target_height_m: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """(point index, camera row index) for every camera that sees each target point.

    ``x``/``y`` are target points in metres (working CRS); ``cameras`` a frame
    with ``x, y, range_m, bearing_deg, fov_deg`` (optionally ``mount_height_m``).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0 or len(cameras) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(x, kind="stable")
    cx, cy, rng, brg, fov, mh = _cam_arrays(cameras, mount_height_m)
    h, x0, ytop, cs, use = _raster_args(obstruction)
    p, c = K.cover_pairs(
        kernel_array(x[order], np.float64),
        kernel_array(y[order], np.float64),
        cx,
        cy,
        rng,
        brg,
        fov,
        mh,
        h,
        x0,
        ytop,
        cs,
        float(target_height_m),
        use,
    )
    return order[p], c


def covered_points(
    cameras, x, y, obstruction: Obstruction | None = None, mount_height_m: float = 6.0, target_height_m: float = 1.5
) -> np.ndarray:
    """Number of cameras that see each target point (int array, len(x))."""
    p, _ = visibility_pairs(cameras, x, y, obstruction, mount_height_m, target_height_m)
    return np.bincount(p, minlength=len(np.asarray(x))).astype(np.int64)


def viewshed_raster(
    cameras,
    obstruction: Obstruction,
    mount_height_m: float = 6.0,
    target_height_m: float = 1.5,
    line_of_sight: bool = True,
) -> np.ndarray:
    """Number of cameras seeing each pixel centre of ``obstruction`` (int32, same shape)."""
    cx, cy, rng, brg, fov, mh = _cam_arrays(cameras, mount_height_m)
    h, x0, ytop, cs, _use = _raster_args(obstruction)
    return K.viewshed_count(h, x0, ytop, cs, cx, cy, rng, brg, fov, mh, float(target_height_m), bool(line_of_sight))


def viewshed_polygons(
    cameras, obstruction: Obstruction | None = None, mount_height_m: float = 6.0, target_height_m: float = 1.5, crs=None
):
    """One viewshed polygon per camera (GeoDataFrame in the cameras' CRS, same row order as ``cameras``).

    ``cameras`` is a GeoDataFrame (its CRS is used) or a plain table with ``x``/``y``
    in metres, whose CRS ``crs`` names (None: the polygons carry no CRS).

    Without an obstruction raster the polygon is the geometric sector; with one,
    it is the union of the visible pixels (pixel-edged) -- obstructed parts cut out.
    Columns: ``camera_id, type, status, area_m2, geometry``.
    """
    if isinstance(cameras, gpd.GeoDataFrame):
        crs = cameras.crs
    geoms = []
    cx, cy, rng, brg, fov, mh = _cam_arrays(cameras, mount_height_m)
    if obstruction is not None:
        h, x0, ytop, cs, _use = _raster_args(obstruction)
    for k in range(len(cx)):
        if obstruction is None:
            geoms.append(sector_polygon(cx[k], cy[k], rng[k], brg[k], fov[k]))
            continue
        r0, c0, m = K.viewshed_window(
            h, x0, ytop, cs, cx[k], cy[k], rng[k], brg[k], fov[k], mh[k], float(target_height_m), True
        )
        if m.size == 0 or not m.any():
            geoms.append(shapely.Polygon())
            continue

        cs = obstruction.cell_size
        t = Affine(cs, 0, obstruction.x0 + c0 * cs, 0, -cs, obstruction.ytop - r0 * cs)
        parts = [shapely.geometry.shape(g) for g, v in features.shapes(m, mask=m.astype(bool), transform=t) if v == 1]
        geoms.append(shapely.union_all(parts))
    out = gpd.GeoDataFrame(
        {
            "camera_id": cameras["camera_id"].to_numpy() if "camera_id" in cameras else np.arange(len(cx)).astype(str),
            "type": cameras["type"].to_numpy() if "type" in cameras else "",
            "status": cameras["status"].to_numpy() if "status" in cameras else "",
        },
        geometry=gpd.GeoSeries(geoms, crs=crs),
        crs=crs,
    )
    out["area_m2"] = out.geometry.area
    return out
