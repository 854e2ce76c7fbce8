"""Kernel density surfaces on the analysis grid (EPSG:27700, metres).

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._util import kernel_array
from ..errors import ConfigError, InputError
from . import _kernels

if TYPE_CHECKING:
    from ..geo.grid import Grid

KERNELS = tuple(_kernels.KERNEL_CODES)
RADIUS_RULE = "ArcGIS spatial Silverman: 0.9 * min(SD, sqrt(1/ln2) * Dm) * n^-0.2"


@dataclass(frozen=True)
class DensityConfig:
    """[density]: kernel density settings.

    ``radius_m`` 0 chooses the radius by the spatial Silverman rule (see module
    docstring); ``min_radius_m``/``max_radius_m`` clamp the automatic choice.
    ``harm`` also computes a harm-weighted surface.
    """

    kernel: str = "quartic"
    radius_m: float = 0.0
    min_radius_m: float = 100.0
    max_radius_m: float = 1500.0
    harm: bool = True

    def validate(self, where: str) -> None:
        if self.kernel not in KERNELS:
            raise ConfigError(f"{where}: [density] kernel must be one of {list(KERNELS)}, got {self.kernel!r}.")
        if self.radius_m < 0:
            raise ConfigError(f"{where}: [density] radius_m must be >= 0 metres (0 = automatic), got {self.radius_m}.")
        if not 0 < self.min_radius_m <= self.max_radius_m:
            raise ConfigError(f"{where}: [density] needs 0 < min_radius_m <= max_radius_m (metres), got "
                              f"{self.min_radius_m} and {self.max_radius_m}.")


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
        raise InputError(f"cannot choose a KDE radius from {n} point(s); give radius_m explicitly "
                         "([density] radius_m, metres).")
    mx, my = x.mean(), y.mean()
    sd = math.sqrt(((x - mx) ** 2).mean() + ((y - my) ** 2).mean())
    dm = float(np.median(np.hypot(x - mx, y - my)))
    r = 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n ** -0.2
    if not r > 0:
        raise InputError("all points share one location, so no KDE radius can be chosen; give radius_m explicitly.")
    return float(r)


def checked_points(x, y, weights, radius_m: float, kernel: str):
    """Validate KDE inputs; returns the kernel's float64 ``x, y, weights`` (weights default 1).

    Raises :class:`ConfigError` for an unknown kernel or a radius (metres) that is not
    positive, :class:`InputError` for arrays of different lengths.
    """
    if kernel not in _kernels.KERNEL_CODES:
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


def density_surface(x, y, grid, radius_m: float, kernel: str = "quartic", weights=None) -> np.ndarray:
    """Kernel density at the cell centres of ``grid``, shape (nrows, ncols).

    Parameters
    ----------
    x, y : array-like
        Point coordinates in EPSG:27700 metres.
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
    dens = _kernels.kde_grid(x, y, w, float(grid.xmin), float(grid.ymax), float(grid.cell_size),
                             int(grid.nrows), int(grid.ncols), float(radius_m), _kernels.KERNEL_CODES[kernel])
    dens *= 1e6  # per m² -> per km²
    dens[~grid.mask] = np.nan
    return dens


@dataclass(frozen=True, eq=False)
class DensityResult:
    """A kernel density surface and how it was made.

    ``surface`` (nrows, ncols) is in ``units`` (incidents or harm per km²),
    NaN outside the study area; ``radius_m`` is the search radius in metres and
    ``radius_rule`` says how it was chosen.
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

    def to_frame(self, clip: bool = False):
        """GeoDataFrame of the masked cells with a ``density`` column (EPSG:27700)."""
        df = self.grid.to_frame(clip=clip, density=self.surface)
        df.attrs.update(self.metadata())
        return df

    def metadata(self) -> dict:
        return {"radius_m": self.radius_m, "radius_rule": self.radius_rule, "kernel": self.kernel,
                "units": self.units, "n_points": self.n_points, "label": self.label,
                "harm_scheme": self.harm_scheme}

    def to_geotiff(self, path: str | Path) -> Path:
        """Write the surface as a float32 GeoTIFF (EPSG:27700, nodata outside the study area)."""
        desc = (f"{self.label or 'density'} ({self.units}); {self.kernel} kernel, radius {self.radius_m:.0f} m "
                f"[{self.radius_rule}]" + (f"; harm scheme {self.harm_scheme}" if self.harm_scheme else ""))
        return self.grid.write_geotiff(path, self.surface, description=desc)

    def percentile_mask(self, percentile: float) -> np.ndarray:
        """Cells (bool, nrows x ncols) at or above the given percentile of the in-area surface."""
        vals = self.surface[self.grid.mask]
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            return np.zeros(self.grid.shape, dtype=bool)
        cut = np.percentile(vals, percentile)
        return self.grid.mask & np.isfinite(self.surface) & (self.surface >= cut) & (self.surface > 0)


def _xy(incidents):
    if hasattr(incidents, "columns") and "x" in incidents.columns and "y" in incidents.columns:
        return incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    if hasattr(incidents, "geometry"):
        g = incidents.geometry
        return g.x.to_numpy(float), g.y.to_numpy(float)
    arr = np.asarray(incidents, dtype=float)
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0], arr[:, 1]
    raise InputError("hotspot_kde needs an Incidents GeoDataFrame (x, y columns in EPSG:27700) "
                     "or an (n, 2) array of metres.")


def hotspot_kde(incidents, grid=None, radius_m: float | None = None, kernel: str = "quartic",
                weights=None, cell_size_m: float = 0.0, boundary=None, label: str = "",
                harm_scheme: str = "", min_radius_m: float = 0.0,
                max_radius_m: float = math.inf) -> DensityResult:
    """Kernel density of incidents on a grid, choosing what it is not told.

    ``incidents`` is an Incidents GeoDataFrame (EPSG:27700) or an (n, 2) array of
    metres. Without ``grid`` one is built over ``boundary`` (or the points'
    bounding box) at ``cell_size_m`` (0 = automatic). Without ``radius_m`` the
    spatial Silverman rule picks it (clamped to [min_radius_m, max_radius_m]);
    the result says which radius and rule were used. ``weights`` may be an array
    or the name of a column (e.g. ``"harm"``).
    """
    x, y = _xy(incidents)
    if isinstance(weights, str):
        weights = incidents[weights].to_numpy(float)
    if grid is None:
        from ..geo.grid import Grid

        if boundary is None:
            import shapely

            if x.size == 0:
                raise InputError("no incidents and no grid or boundary: nothing to map.")
            boundary = shapely.box(x.min(), y.min(), x.max(), y.max()).buffer(1.0)
        grid = Grid.from_boundary(boundary, cell_size_m)
    if radius_m is None or radius_m <= 0:
        r = silverman_radius(x, y)
        rule = RADIUS_RULE
        clamped = min(max(r, min_radius_m), max_radius_m)
        if clamped != r:
            rule += f" = {r:.0f} m, clamped to [{min_radius_m:g}, {max_radius_m:g}] m"
        radius, rule = clamped, rule
    else:
        radius, rule = float(radius_m), "given"
    surface = density_surface(x, y, grid, radius, kernel=kernel, weights=weights)
    units = ("harm per km²" if weights is not None else "incidents per km²")
    return DensityResult(surface=surface, radius_m=float(radius), radius_rule=rule, kernel=kernel, units=units,
                         grid=grid, n_points=int(x.size), label=label, harm_scheme=harm_scheme)
