"""Getis-Ord Gi* hot-spot statistics on grid cells and polygons, with FDR.

Gi* uses binary weights with each site included in its own window (as ArcGIS
*Hot Spot Analysis* and esda ``G_Local(star=True, transform="B")``)::

    G*_i = sum_j w_ij y_j / sum_j y_j,          w_ii = 1
    z_i  = (G*_i - W_i / n) / sqrt(W_i (n - W_i) / (n - 1) / n^2 * s^2 / ybar^2)

with ``W_i`` the number of sites in i's window, ``ybar`` and ``s^2`` the mean
and (population) variance of ``y`` over the ``n`` sites.

* Grid cells: the sites are the grid's masked cells; neighbours are the cells
  whose centres lie within ``band_m`` metres (default ``cell_size * sqrt(2)``,
  i.e. the 8 queen neighbours).
* Polygons (wards, LSOAs): queen or rook contiguity (libpysal), or a distance
  band between centroids in metres.

p-values: ``p_norm`` is the **two-sided** normal p-value of z (ArcGIS
convention; esda's ``p_norm`` is the one-sided ``norm.sf(|z|)``, i.e. half of
it). With ``permutations > 0`` a conditional-permutation test (esda's scheme,
seeded, numba) adds ``p_sim`` (esda's "directed" folded pseudo p-value) and
``p_sim_directed`` (the tail in the direction of z's sign).

Classification follows ArcGIS: confidence bins +3/+2/+1 (hot, 99/95/90%),
-1/-2/-3 (cold), 0 not significant. Under ``correction="fdr"`` (default) the
Benjamini-Hochberg cut-off (:mod:`hotspots.analysis.fdr`) is computed separately at alpha 0.01, 0.05 and 0.10;
``"bonferroni"`` divides alpha by n; ``"none"`` uses alpha as is. The sign of
the bin is always the sign of z, so a cell with negative z is never hot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .._util import kernel_array
from ..config.sections import (
    CORRECTIONS,
    GiStarConfig,  # noqa: F401  (the [gistar] settings, re-exported beside their analysis)
)
from ..errors import ConfigError, InputError
from ..geo.checks import require_same_crs
from ..geo.grid import Grid
from . import _kernels
from .density import points_xy
from .fdr import fdr_cutoff, fdr_cutoffs  # noqa: F401  (fdr_cutoff re-exported beside the statistic)
from .neighbours import grid_neighbours, polygon_neighbours

CONFIDENCE_ALPHAS = ((3, 0.01), (2, 0.05), (1, 0.10))


# --------------------------------------------------------------------------- multiple testing
def significance_cutoffs(p: np.ndarray, alphas, correction: str) -> tuple[float, ...]:
    """The p-value threshold (reject when p < threshold) at each level of ``alphas``."""
    if correction == "fdr":
        return fdr_cutoffs(p, alphas)  # one sort of the p-values for every level
    n = int(np.isfinite(np.asarray(p, dtype=float)).sum())
    if correction == "bonferroni":
        return tuple(alpha / max(n, 1) for alpha in alphas)
    if correction == "none":
        return tuple(float(alpha) for alpha in alphas)
    raise ConfigError(f"correction must be one of {list(CORRECTIONS)}, got {correction!r}.")


def classify(z: np.ndarray, p: np.ndarray, correction: str = "fdr") -> tuple[np.ndarray, dict]:
    """ArcGIS-style confidence bins (+3..-3, 0) from z (for the sign) and two-sided p.

    Returns the bins (int8) and the cut-off used at each confidence level.
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    bins = np.zeros(z.shape, dtype=np.int8)
    cutoffs = {}
    finite = np.isfinite(p) & np.isfinite(z)
    levels = tuple(reversed(CONFIDENCE_ALPHAS))  # 90 -> 95 -> 99, higher overwrites
    cuts = significance_cutoffs(p[finite], [alpha for _level, alpha in levels], correction)
    for (level, alpha), cut in zip(levels, cuts, strict=True):
        cutoffs[int(round((1 - alpha) * 100))] = cut
        sig = finite & (p < cut)
        bins[sig & (z > 0)] = level
        bins[sig & (z < 0)] = -level
    return bins, cutoffs


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class GiStarResult:
    """Gi* per site (esda-style attributes).

    ``y`` values tested; ``G`` the statistic; ``z`` z-scores; ``p_norm``
    two-sided normal p-values; ``p_sim`` esda-style directed pseudo p-values and
    ``p_sim_directed`` the one-sided pseudo p in the direction of z (both None
    without permutations); ``classes`` the ArcGIS confidence bins (+3..-3) under
    ``correction``; ``cutoffs`` the p threshold per confidence level; ``wsum``
    window sizes. Grid results carry ``grid`` and ``rows``/``cols`` of each site;
    polygon results carry ``frame``.
    """

    y: np.ndarray
    G: np.ndarray
    z: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray | None
    p_sim_directed: np.ndarray | None
    classes: np.ndarray
    cutoffs: dict[int, float]
    correction: str
    p_value: str
    permutations: int
    seed: int | None
    wsum: np.ndarray
    neighbours: str
    grid: Grid | None = None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    frame: gpd.GeoDataFrame | None = field(default=None, repr=False)
    label: str = ""
    harm_scheme: str = ""

    @property
    def n(self) -> int:
        return int(self.z.size)

    @property
    def p_used(self) -> np.ndarray:
        """The two-sided p-values the classes were computed from."""
        if self.p_value == "sim" and self.p_sim_directed is not None:  # "sim" always has permutations
            return np.minimum(1.0, 2.0 * self.p_sim_directed)
        return self.p_norm

    def hot(self, confidence: int = 95) -> np.ndarray:
        """Bool per site: hot spot at or above ``confidence`` (90, 95 or 99)."""
        level = {90: 1, 95: 2, 99: 3}[confidence]
        return self.classes >= level

    def cold(self, confidence: int = 95) -> np.ndarray:
        level = {90: 1, 95: 2, 99: 3}[confidence]
        return self.classes <= -level

    def to_array(self, values: np.ndarray, fill=np.nan) -> np.ndarray:
        """Scatter per-site values back onto the grid, shape (nrows, ncols)."""
        if self.grid is None or self.rows is None or self.cols is None:
            raise InputError("to_array needs a grid result; polygon results use to_frame().")
        out = np.full(self.grid.shape, fill, dtype=np.result_type(np.asarray(values).dtype, type(fill)))
        out[self.rows, self.cols] = values
        return out

    def to_frame(self, clip: bool = False) -> gpd.GeoDataFrame:
        """GeoDataFrame (working CRS): one row per site with y, G, z, p_norm, p_sim, gi_bin."""
        data: dict[str, Any] = {"y": self.y, "G": self.G, "z": self.z, "p_norm": self.p_norm}
        if self.p_sim is not None:
            data["p_sim"] = self.p_sim
            data["p_sim_directed"] = self.p_sim_directed
        data["gi_bin"] = self.classes
        if self.grid is not None and self.rows is not None and self.cols is not None:
            g = self.grid
            rows, cols = self.rows, self.cols
            cs = g.cell_size

            geom = shapely.box(
                g.xmin + cols * cs, g.ymax - (rows + 1) * cs, g.xmin + (cols + 1) * cs, g.ymax - rows * cs
            )
            if clip and g.boundary is not None:
                geom = shapely.intersection(geom, g.boundary)
            df = gpd.GeoDataFrame(
                {"cell_id": rows * g.ncols + cols, "row": rows, "col": cols, **data}, geometry=geom, crs=g.crs
            )
        elif self.frame is not None:
            df = self.frame.reset_index(drop=True).copy()
            for k, v in data.items():
                df[k] = v
        else:
            raise InputError("to_frame needs a grid result or a polygon result with its frame.")
        df.attrs.update(
            {
                "correction": self.correction,
                "p_value": self.p_value,
                "permutations": self.permutations,
                "neighbours": self.neighbours,
                "label": self.label,
                "harm_scheme": self.harm_scheme,
            }
        )
        return df

    def to_geotiff(self, path, what: str = "z"):
        """Write z (or ``gi_bin``) on the grid as a GeoTIFF (working CRS)."""
        if self.grid is None:
            raise InputError("to_geotiff needs a grid result; polygon results use to_frame().")
        vals = self.z if what == "z" else self.classes.astype(float)
        units = "z-score (standard deviations)" if what == "z" else "Gi* class (-3 cold 99% .. 3 hot 99%)"
        return self.grid.write_geotiff(
            path, self.to_array(vals), description=f"Gi* {what} {self.label}".strip(), units=units
        )


# --------------------------------------------------------------------------- computation
def gistar(
    y,
    indptr,
    indices,
    permutations: int = 0,
    seed: int | None = 0,
    correction: str = "fdr",
    p_value: str = "norm",
    neighbours: str = "",
    **extra,
) -> GiStarResult:
    """Gi* for values ``y`` (n,) with CSR neighbour lists excluding self.

    ``permutations`` > 0 runs the conditional-permutation test with ``seed``.
    ``p_value`` chooses whether the analytic (``norm``) or permutation (``sim``)
    p-values are classified.
    """
    y = kernel_array(y, np.float64)
    if y.ndim != 1 or y.size < 3:
        raise InputError(f"Gi* needs at least 3 sites, got {y.size}.")
    if not np.all(np.isfinite(y)):
        raise InputError("Gi* values contain NaN or infinity; fill or drop those sites first.")
    if correction not in CORRECTIONS:
        raise ConfigError(f"correction must be one of {list(CORRECTIONS)}, got {correction!r}.")
    if p_value == "sim" and permutations <= 0:
        raise ConfigError("p_value='sim' needs permutations > 0 (e.g. 999).")
    indptr = kernel_array(indptr, np.int64)
    indices = kernel_array(indices, np.int64)
    G, z, p, wsum = _kernels.gistar_analytic(y, indptr, indices)
    p_sim = p_dir = None
    if permutations > 0:
        s = 0 if seed is None else int(seed)
        maxk = int(np.max(np.diff(indptr))) if y.size else 0
        if maxk > y.size - 1:
            raise InputError(
                f"a site has {maxk} neighbours but there are only {y.size - 1} other sites; "
                "use a smaller distance band."
            )
        draws = _kernels.permutation_draws(y.size, maxk, int(permutations), s)
        ge, le = _kernels.gistar_permutation_counts(y, indptr, indices, draws)
        larger = ge.astype(float)
        low = (permutations - larger) < larger
        larger[low] = permutations - larger[low]
        p_sim = (larger + 1.0) / (permutations + 1.0)
        p_dir = np.where(np.nan_to_num(z) >= 0, ge + 1.0, le + 1.0) / (permutations + 1.0)
    p_cls = p if p_value == "norm" or p_dir is None else np.minimum(1.0, 2.0 * p_dir)
    classes, cutoffs = classify(z, p_cls, correction)
    return GiStarResult(
        y=y,
        G=G,
        z=z,
        p_norm=p,
        p_sim=p_sim,
        p_sim_directed=p_dir,
        classes=classes,
        cutoffs=cutoffs,
        correction=correction,
        p_value=p_value,
        permutations=int(permutations),
        seed=seed,
        wsum=wsum,
        neighbours=neighbours,
        **extra,
    )


def gistar_grid(
    values: np.ndarray,
    grid: Grid,
    band_m: float = 0.0,
    permutations: int = 0,
    seed: int | None = 0,
    correction: str = "fdr",
    p_value: str = "norm",
    label: str = "",
    harm_scheme: str = "",
) -> GiStarResult:
    """Gi* on the masked cells of ``grid`` for a (nrows, ncols) array of counts or harm.

    Neighbours: cells within ``band_m`` metres centre to centre (0 = queen,
    cell_size * sqrt(2)). The grid must be in a projected CRS in metres.
    """
    require_same_crs(("gistar_grid: grid", grid))
    values = np.asarray(values, dtype=float)
    if values.shape != grid.shape:
        raise InputError(f"values have shape {values.shape}, the grid is {grid.shape}.")
    rows, cols = np.nonzero(grid.mask)
    indptr, indices = grid_neighbours(grid.mask, grid.cell_size, band_m)
    band = band_m if band_m > 0 else grid.cell_size * math.sqrt(2.0)
    return gistar(
        values[rows, cols],
        indptr,
        indices,
        permutations,
        seed,
        correction,
        p_value,
        neighbours=f"distance band {band:.1f} m (cell centres), binary, self included",
        grid=grid,
        rows=rows,
        cols=cols,
        label=label,
        harm_scheme=harm_scheme,
    )


def hotspot_gistar(
    incidents: Any,
    grid: Grid,
    weights: Any = None,
    band_m: float = 0.0,
    permutations: int = 0,
    seed: int | None = 0,
    correction: str = "fdr",
    p_value: str = "norm",
    label: str = "",
    harm_scheme: str = "",
) -> GiStarResult:
    """Gi* of incident counts (or summed ``weights``, e.g. harm) per grid cell.

    ``incidents`` is an Incidents GeoDataFrame in the grid's projected CRS
    (x, y in metres) or an (n, 2) array of metres in the grid's CRS.
    """
    x, y = points_xy(incidents, "hotspot_gistar: incidents")
    require_same_crs(("grid", grid), ("hotspot_gistar: incidents", incidents))
    if isinstance(weights, str):
        weights = incidents[weights].to_numpy(float)
    counts = grid.counts(x, y, weights)
    return gistar_grid(counts, grid, band_m, permutations, seed, correction, p_value, label, harm_scheme)


def gistar_polygons(
    polygons,
    values,
    contiguity: str = "queen",
    band_m: float = 0.0,
    permutations: int = 0,
    seed: int | None = 0,
    correction: str = "fdr",
    p_value: str = "norm",
    label: str = "",
) -> GiStarResult:
    """Gi* on polygons (wards, LSOAs; GeoDataFrame in the working CRS) for per-polygon ``values``.

    ``values`` is an array aligned with the rows or the name of a column.
    """
    if isinstance(values, str):
        values = polygons[values].to_numpy(float)
    indptr, indices = polygon_neighbours(polygons, contiguity, band_m)
    desc = f"{contiguity} contiguity" if contiguity != "band" else f"centroid distance band {band_m:g} m"
    return gistar(
        np.asarray(values, dtype=float),
        indptr,
        indices,
        permutations,
        seed,
        correction,
        p_value,
        neighbours=desc + ", binary, self included",
        frame=polygons,
        label=label,
    )
