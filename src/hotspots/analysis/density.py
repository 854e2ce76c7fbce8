"""Kernel density surfaces on the analysis grid (working CRS, metres).

The default kernel is the quartic (biweight) kernel used by ArcGIS *Kernel
Density* and the QGIS heatmap tool::

    K(d) = 3 / (pi r^2) * (1 - (d / r)^2)^2    for d < r, else 0

with ``r`` the search radius in metres. Epanechnikov
(``2 / (pi r^2) * (1 - (d/r)^2)``) and Gaussian (sigma = r / 3) kernels are
available for comparison. Density is evaluated *exactly* at every cell centre
(no binning of the points), by a numba kernel that only visits the cells
within reach of each point. Results are in incidents (or harm) per km²; cells
outside the study area are NaN.

The default radius follows the spatial variant of Silverman's rule of thumb
documented for ArcGIS Kernel Density::

    SearchRadius = 0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n ** -0.2

where SD is the standard distance of the points, Dm the median distance of
the points to their mean centre and n the number of points. The radius is
computed from the locations alone (unweighted), so count and harm surfaces of
the same incidents share one radius.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .._util import kernel_array
from ..announce import choose
from ..config.sections import KERNELS, DensityConfig
from ..crs import DEFAULT_CRS
from ..errors import ConfigError, InputError
from ..geo.checks import NO_CRS_ATTACHED, crs_of, require_same_crs
from ..geo.grid import Grid
from . import _kernels

__all__ = [
    "KERNELS",
    "RADIUS_RULE",
    "DensityConfig",
    "DensityResult",
    "density_surface",
    "hotspot_kde",
    "silverman_radius",
]

RADIUS_RULE = "ArcGIS spatial Silverman: 0.9 * min(SD, sqrt(1/ln2) * Dm) * n^-0.2"


def silverman_radius(x: np.ndarray, y: np.ndarray) -> float:
    """Search radius in metres by the spatial Silverman rule ArcGIS documents.

    ``0.9 * min(SD, sqrt(1/ln 2) * Dm) * n^-0.2``: SD the standard distance
    ``sqrt(var(x) + var(y))`` (population variances), Dm the median distance to
    the mean centre. Needs at least two distinct points.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = x.size
    if n < 2:
        raise InputError(
            f"cannot choose a KDE radius from {n} point(s); give radius_m explicitly ([density] radius_m, metres)."
        )
    mx, my = x.mean(), y.mean()
    sd = math.sqrt(((x - mx) ** 2).mean() + ((y - my) ** 2).mean())
    dm = float(np.median(np.hypot(x - mx, y - my)))
    r = 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n**-0.2
    if not r > 0:
        raise InputError("all points share one location, so no KDE radius can be chosen; give radius_m explicitly.")
    return float(r)


def checked_points(x, y, weights, radius_m: float, kernel: str):
    """Validate KDE inputs; returns the kernel's float64 ``x, y, weights`` (weights default 1).

    Raises :class:`ConfigError` for an unknown kernel or a radius (metres) that is not
    positive, :class:`InputError` for arrays of different lengths.
    """
    if kernel not in KERNELS:
        raise ConfigError(f"kernel must be one of {list(KERNELS)}, got {kernel!r}.")
    if not (radius_m > 0 and math.isfinite(radius_m)):
        raise ConfigError(f"radius_m must be a positive number of metres, got {radius_m!r}.")
    x = kernel_array(x, np.float64)
    y = kernel_array(y, np.float64)
    if x.shape != y.shape:
        raise InputError(f"x and y differ in length ({x.size} vs {y.size}).")
    w = np.ones_like(x) if weights is None else kernel_array(weights, np.float64)
    if w.shape != x.shape:
        raise InputError(f"weights has {w.size} values for {x.size} points.")
    return x, y, w


def density_surface(x, y, grid: Grid, radius_m: float, kernel: str = "quartic", weights=None) -> np.ndarray:
    """Kernel density at the cell centres of ``grid``, shape (nrows, ncols).

    Parameters
    ----------
    x, y : array-like
        Point coordinates in metres, in the grid's CRS.
    grid : hotspots.geo.grid.Grid
        Analysis grid; cells outside ``grid.mask`` are NaN in the result.
    radius_m : float
        Search radius in metres (> 0).
    kernel : {"quartic", "epanechnikov", "gaussian"}
    weights : array-like, optional
        Per-point weights (e.g. harm); default 1.

    Returns
    -------
    ndarray (nrows, ncols)
        Incidents (or weight) per km².
    """
    x, y, w = checked_points(x, y, weights, radius_m, kernel)
    dens = _kernels.kde_grid(
        x,
        y,
        w,
        float(grid.xmin),
        float(grid.ymax),
        float(grid.cell_size),
        int(grid.nrows),
        int(grid.ncols),
        float(radius_m),
        _kernels.KERNEL_CODES[kernel],
    )
    dens *= 1e6  # per m² -> per km²
    dens[~grid.mask] = np.nan
    return dens


@dataclass(frozen=True, eq=False)
class DensityResult:
    """A kernel density surface and how it was made.

    ``surface`` (nrows, ncols) is in ``units`` (incidents or harm per km²),
    NaN outside the study area; ``radius_m`` is the search radius in metres and
    ``radius_rule`` says how it was chosen; ``choices`` holds what was chosen
    automatically (radius, grid) in plain sentences.
    """

    surface: np.ndarray
    radius_m: float
    radius_rule: str
    kernel: str
    units: str
    grid: Grid
    n_points: int = 0
    label: str = ""
    harm_scheme: str = ""
    choices: Mapping[str, str] = field(default_factory=dict)

    def to_frame(self, clip: bool = False) -> Any:
        """GeoDataFrame of the masked cells with a ``density`` column (the grid's CRS)."""
        df = self.grid.to_frame(clip=clip, density=self.surface)
        df.attrs.update(self.metadata())
        return df

    def metadata(self) -> dict[str, Any]:
        return {
            "radius_m": self.radius_m,
            "radius_rule": self.radius_rule,
            "kernel": self.kernel,
            "units": self.units,
            "n_points": self.n_points,
            "label": self.label,
            "harm_scheme": self.harm_scheme,
        }

    def to_geotiff(self, path: str | Path) -> Path:
        """Write the surface as a float32 GeoTIFF (the grid's CRS, nodata outside the study area)."""
        desc = (
            f"{self.label or 'density'} ({self.units}); {self.kernel} kernel, radius {self.radius_m:.0f} m "
            f"[{self.radius_rule}]" + (f"; harm scheme {self.harm_scheme}" if self.harm_scheme else "")
        )
        return self.grid.write_geotiff(path, self.surface, description=desc, units=self.units)

    def percentile_mask(self, percentile: float) -> np.ndarray:
        """Cells (bool, nrows x ncols) at or above the given percentile of the in-area surface."""
        vals = self.surface[self.grid.mask]
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            return np.zeros(self.grid.shape, dtype=bool)
        cut = np.percentile(vals, percentile)
        return self.grid.mask & np.isfinite(self.surface) & (self.surface >= cut) & (self.surface > 0)


def points_xy(incidents: Any, what: str = "incidents") -> tuple[np.ndarray, np.ndarray]:
    """x, y (metres) of an Incidents (Geo)DataFrame (``x``/``y`` columns, else point geometry) or an (n, 2) array."""
    if isinstance(incidents, pd.DataFrame):
        if "x" in incidents.columns and "y" in incidents.columns:
            return incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
        if "geometry" in incidents.columns:
            g = incidents.geometry
            return g.x.to_numpy(float), g.y.to_numpy(float)
    else:
        arr = np.asarray(incidents, dtype=float)
        if arr.ndim == 2 and arr.shape[1] == 2:
            return arr[:, 0], arr[:, 1]
    raise InputError(
        f"{what} must be an Incidents GeoDataFrame (x, y columns in metres, a projected CRS) "
        "or an (n, 2) array of metres."
    )


def _auto_grid(
    x: np.ndarray, y: np.ndarray, boundary: Any, cell_size_m: float, crs: Any, choices: dict[str, str]
) -> Grid:
    """A grid over ``boundary`` (or the points' bounding box) when the caller gave none."""
    if boundary is None:
        if x.size == 0:
            raise InputError("no incidents and no grid or boundary: nothing to map.")
        boundary = shapely.box(x.min(), y.min(), x.max(), y.max()).buffer(1.0)
        choose(choices, "extent", "KDE: no grid or boundary given, so the surface covers the incidents' bounding box")
    grid = Grid.from_boundary(boundary, cell_size_m, crs=crs)
    choices.update(grid.choices)
    return grid


def hotspot_kde(
    incidents: Any,
    grid: Grid | None = None,
    radius_m: float | None = None,
    kernel: str = "quartic",
    weights: Any = None,
    cell_size_m: float = 0.0,
    boundary: Any = None,
    label: str = "",
    harm_scheme: str = "",
    min_radius_m: float = 0.0,
    max_radius_m: float = math.inf,
) -> DensityResult:
    """Kernel density of incidents on a grid, choosing what it is not told.

    ``incidents`` is an Incidents GeoDataFrame (a projected CRS in metres, the
    grid's) or an (n, 2) array of metres in the grid's CRS. Without ``grid`` one
    is built over ``boundary`` (or the points' bounding box) at ``cell_size_m``
    (0 = automatic), in the incidents' CRS. Without ``radius_m`` the spatial
    Silverman rule picks it (clamped to [min_radius_m, max_radius_m]). Every
    automatic choice is announced (:mod:`hotspots.announce`) and kept in the
    result's ``choices``. ``weights`` may be an array or the name of a column
    (e.g. ``"harm"``).
    """
    x, y = points_xy(incidents, "hotspot_kde: incidents")
    crs_holder = incidents if isinstance(incidents, pd.DataFrame) else None
    require_same_crs(*((("grid", grid),) if grid is not None else ()), ("hotspot_kde: incidents", crs_holder))
    if isinstance(weights, str):
        weights = incidents[weights].to_numpy(float)
    choices: dict[str, str] = {}
    if grid is None:
        crs = crs_of(incidents)
        grid = _auto_grid(x, y, boundary, cell_size_m, DEFAULT_CRS if crs in (None, NO_CRS_ATTACHED) else crs, choices)
    if radius_m is None or radius_m <= 0:
        r = silverman_radius(x, y)
        rule = RADIUS_RULE
        clamped = min(max(r, min_radius_m), max_radius_m)
        if clamped != r:
            rule += f" = {r:.0f} m, clamped to [{min_radius_m:g}, {max_radius_m:g}] m"
        radius = clamped
        choose(
            choices,
            "radius_m",
            f"KDE{' of ' + label if label else ''}: search radius chosen automatically: {radius:.0f} m ({rule})",
        )
    else:
        radius, rule = float(radius_m), "given"
    surface = density_surface(x, y, grid, radius, kernel=kernel, weights=weights)
    units = "harm per km²" if weights is not None else "incidents per km²"
    return DensityResult(
        surface=surface,
        radius_m=float(radius),
        radius_rule=rule,
        kernel=kernel,
        units=units,
        grid=grid,
        n_points=int(x.size),
        label=label,
        harm_scheme=harm_scheme,
        choices=dict(choices),
    )
