"""Robustness of each hotspot: would it survive a different grid or search radius?

What it answers: *is this hotspot a real concentration of crime, or an artefact
of where the grid lines happen to fall and how big the cells are?* A hotspot
that appears whatever reasonable grid or radius is used is a safe basis for
tasking; a *fragile* one should be checked on the ground before resources move.

Method
------
1. **Reference run**: the hotspot detection as configured, on the given grid:
   Getis-Ord Gi* (:func:`~hotspots.analysis.gistar.gistar_grid`, multiple-testing
   correction ``correction``, hot at ``confidence``) or, with
   ``method="kde"``, the kernel density (:func:`~hotspots.analysis.density.hotspot_kde`)
   at or above the ``kde_percentile`` percentile; the hot cells are merged into
   ranked hotspot areas (:func:`~hotspots.analysis.hotspot_areas.hotspot_areas`).
2. **Settings** (the sweep):

   - *grid*: the same method on grids of ``scales`` times the cell size
     (default 0.5, 0.75, 1, 1.5, 2) each with its origin as is and moved half a
     cell east, north, and east and north (``shifts``); 19 settings besides
     the reference itself. Gi* neighbours are the queen cells of each grid (or
     ``band_m`` metres when given, the same on every grid);
   - *radius*: kernel density on the reference grid with ``radius_scales``
     times the search radius (default 0.5-2x; the radius is ``radius_m`` or
     the spatial Silverman rule's choice, stated in the result), hot at the
     ``kde_percentile`` percentile. With ``method="kde"`` the 1x radius is
     the reference itself and is left out.

3. **Found**: the hot cells of each setting are merged into hot areas (touching
   cells, as for the reference). A setting *finds* a reference area when one of
   its hot areas and the reference area share at least ``min_overlap`` (default
   50%) of the *smaller* of the two (the overlap coefficient). Measuring against
   the smaller area matters because a hotspot's footprint grows with the cell
   size (Gi* looks at each cell and its 8 neighbours): on 50 m cells a compact
   hotspot is a 150 m square inside the 300 m square it makes on 100 m cells,
   and is still the same hotspot. Areas are measured on whole cell squares (not
   clipped to the borough edge), exactly, by a numba kernel that intersects the
   squares of the two grids.
4. **Robustness** of an area = the share of settings that find it (the
   reference run itself is not counted); ``grid_robustness`` and
   ``radius_robustness`` give the share within each family. An area is
   **fragile** when its robustness is below ``fragile_below`` (default 50%:
   fewer than half of the other reasonable settings find it).

Grids for the sweep (only their masks: which cells of each grid have area inside the boundary) can be
built once with :func:`sweep_grids` and passed in, e.g. for every crime type.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import ConfigError, InputError
from ..geo.grid import Grid
from . import _robustness_kernels
from .density import hotspot_kde, points_xy
from .gistar import gistar_grid
from .hotspot_areas import HotspotAreas, hotspot_areas, label_cells

SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)
SHIFTS = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5))
METHODS = ("gistar", "kde")


@dataclass(frozen=True)
class Setting:
    """One alternative analysis: ``family`` "grid" (cell size and origin shift,
    metres) or "radius" (kernel density search radius, metres)."""

    name: str
    family: str
    cell_size_m: float
    offset_x_m: float
    offset_y_m: float
    radius_m: float = 0.0


@dataclass(frozen=True, eq=False)
class SweepGrids:
    """The grid settings of a sweep and their grids (EPSG:27700), built once."""

    reference: Grid
    settings: tuple[Setting, ...]
    grids: tuple[Grid, ...]


def _shift_words(dx: float, dy: float) -> str:
    if dx and dy:
        return f", moved {dx:g} m east and {dy:g} m north"
    if dx:
        return f", moved {dx:g} m east"
    if dy:
        return f", moved {dy:g} m north"
    return ""


def shifted_grid(boundary: BaseGeometry, cell_size_m: float, offset_x_m: float = 0.0, offset_y_m: float = 0.0) -> Grid:
    """A :class:`~hotspots.geo.grid.Grid` over ``boundary`` whose cell edges sit at
    multiples of ``cell_size_m`` plus the offsets (metres east and north). Only its mask is
    built (the sweep never reads the cells' inside fractions; :meth:`Grid.cell_fractions` measures
    them when asked)."""
    if offset_x_m == 0 and offset_y_m == 0:
        return Grid.from_boundary(boundary, cell_size_m, fractions=False)
    moved = Grid.from_boundary(
        shapely.affinity.translate(boundary, -offset_x_m, -offset_y_m), cell_size_m, fractions=False
    )
    return dataclasses.replace(moved, xmin=moved.xmin + offset_x_m, ymax=moved.ymax + offset_y_m, boundary=boundary)


def sweep_grids(
    grid: Grid, scales: Iterable[float] = SCALES, shifts: Iterable[tuple[float, float]] = SHIFTS
) -> SweepGrids:
    """Grids of ``scales`` x the cell size of ``grid``, each with the half-cell ``shifts``
    (fractions of its own cell), leaving out the reference (scale 1, no shift)."""
    if grid.boundary is None:
        raise InputError("the robustness sweep needs a grid built over a boundary (Grid.from_boundary).")
    scales = tuple(float(s) for s in scales)
    if not scales or any(not (s > 0 and math.isfinite(s)) for s in scales):
        raise ConfigError(f"scales must be positive numbers (multiples of the cell size), got {scales}.")
    settings, grids = [], []
    for s in scales:
        cs = grid.cell_size * s
        for fx, fy in shifts:
            if s == 1.0 and fx == 0 and fy == 0:
                continue
            dx, dy = fx * cs, fy * cs
            settings.append(
                Setting(
                    name=f"cells of {cs:g} m{_shift_words(dx, dy)}",
                    family="grid",
                    cell_size_m=cs,
                    offset_x_m=dx,
                    offset_y_m=dy,
                )
            )
            grids.append(shifted_grid(grid.boundary, cs, dx, dy))
    return SweepGrids(reference=grid, settings=tuple(settings), grids=tuple(grids))


@dataclass(frozen=True, eq=False)
class HotspotRobustness:
    """Robustness of every reference hotspot area.

    ``areas`` is the reference :class:`HotspotAreas` frame (EPSG:27700) with
    ``robustness`` (share of settings finding the area), ``settings_found``,
    ``grid_robustness``, ``radius_robustness`` and ``fragile``; ``settings`` one
    row per setting (name, family, cell size, offsets, radius in metres, hot
    cells); ``overlap`` (areas x settings, rows in ``areas`` order) the best
    overlap coefficient with a hot area of each setting and ``found`` whether it
    reached ``min_overlap``; ``reference`` the reference
    :class:`HotspotAreas`; ``radius_m``/``radius_rule`` the reference radius.
    """

    areas: gpd.GeoDataFrame
    settings: pd.DataFrame
    overlap: npt.NDArray[np.float64]
    found: npt.NDArray[np.bool_]
    reference: HotspotAreas
    method: str
    criterion: str
    min_overlap: float
    fragile_below: float
    radius_m: float
    radius_rule: str

    def to_frame(self) -> gpd.GeoDataFrame:
        df = self.areas.copy()
        df.attrs.update(
            {
                "method": self.method,
                "criterion": self.criterion,
                "min_overlap": self.min_overlap,
                "fragile_below": self.fragile_below,
                "radius_m": self.radius_m,
                "radius_rule": self.radius_rule,
                "settings": len(self.settings),
            }
        )
        return df

    def summary(self) -> str:
        """One sentence for a briefing."""
        n = len(self.areas)
        if n == 0:
            return "No hotspot areas in the reference run, so there is nothing to test for robustness."
        frag = int(self.areas["fragile"].sum())
        return (
            f"{n - frag} of {n} hotspot areas are found in at least {self.fragile_below:.0%} of "
            f"{len(self.settings)} other grids and search radii; {frag} are fragile."
        )


def _hot_cells(
    method: str,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    w: npt.ArrayLike | None,
    grid: Grid,
    band_m: float,
    correction: str,
    confidence: int,
    radius_m: float | None,
    kde_percentile: float,
) -> npt.NDArray[np.bool_]:
    """Hot cells (bool, nrows x ncols) of one setting: Gi* at ``confidence`` or the KDE percentile rule."""
    if method == "gistar":
        counts = grid.counts(x, y, None if w is None else np.asarray(w, dtype=float))
        res = gistar_grid(counts, grid, band_m=band_m, correction=correction)
        return res.to_array(res.hot(confidence), False).astype(bool)
    kde = hotspot_kde(np.column_stack([x, y]), grid=grid, radius_m=radius_m, weights=w)
    return kde.percentile_mask(kde_percentile)


def best_overlap(
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    labels: npt.NDArray[np.int64],
    n_areas: int,
    grid: Grid,
    hot: npt.ArrayLike,
    other_grid: Grid,
) -> npt.NDArray[np.float64]:
    """For each reference area (cells ``rows, cols`` of ``grid`` with ids ``labels`` 1..n_areas),
    the largest overlap coefficient with a hot area of ``other_grid``: shared area divided by
    the smaller of the two areas (0..1), measured on whole cell squares (m²)."""
    comp, n_comp = label_cells(hot)
    if n_comp == 0:
        return np.zeros(n_areas)
    shared = _robustness_kernels.overlap_matrix(
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(cols, dtype=np.int64),
        np.ascontiguousarray(labels, dtype=np.int64),
        int(n_areas),
        float(grid.xmin),
        float(grid.ymax),
        float(grid.cell_size),
        np.ascontiguousarray(comp, dtype=np.int64),
        int(n_comp),
        float(other_grid.xmin),
        float(other_grid.ymax),
        float(other_grid.cell_size),
    )
    area_a = np.bincount(labels, minlength=n_areas + 1) * grid.cell_size**2
    area_b = np.bincount(comp.ravel(), minlength=n_comp + 1) * other_grid.cell_size**2
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    coef = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    return coef[1:, 1:].max(axis=1)


def _check_sweep_settings(
    method: str,
    confidence: int,
    min_overlap: float,
    fragile_below: float,
    kde_percentile: float,
    radius_scales: Iterable[float],
) -> None:
    """A :class:`ConfigError` naming the first setting of :func:`hotspot_robustness` out of range."""
    if method not in METHODS:
        raise ConfigError(f"method must be one of {list(METHODS)}, got {method!r}.")
    if confidence not in (90, 95, 99):
        raise ConfigError(f"confidence must be 90, 95 or 99, got {confidence}.")
    if not 0 < min_overlap <= 1:
        raise ConfigError(f"min_overlap must be a share in (0, 1], got {min_overlap}.")
    if not 0 < fragile_below <= 1:
        raise ConfigError(f"fragile_below must be a share in (0, 1], got {fragile_below}.")
    if not 0 < kde_percentile < 100:
        raise ConfigError(f"kde_percentile must be between 0 and 100, got {kde_percentile}.")
    if any(not (float(s) > 0 and math.isfinite(float(s))) for s in radius_scales):
        raise ConfigError(f"radius_scales must be positive multiples of the radius, got {tuple(radius_scales)}.")


def _radius_settings(method: str, radius: float, radius_scales: Iterable[float], grid: Grid) -> list[Setting]:
    """The kernel density settings on the reference grid: ``radius_scales`` times ``radius`` metres
    (leaving out 1x when the reference itself is the kernel density)."""
    out = []
    for s in radius_scales:
        if method == "kde" and float(s) == 1.0:
            continue
        r = radius * float(s)
        out.append(
            Setting(
                name=f"kernel density, radius {r:.0f} m ({float(s):g} x {radius:.0f} m)",
                family="radius",
                cell_size_m=grid.cell_size,
                offset_x_m=0.0,
                offset_y_m=0.0,
                radius_m=r,
            )
        )
    return out


def _robustness_columns(
    areas: gpd.GeoDataFrame, found: npt.NDArray[np.bool_], settings: list[Setting], fragile_below: float
) -> npt.NDArray[np.int64]:
    """Add ``robustness``, ``settings_found``, ``grid_robustness``, ``radius_robustness`` and
    ``fragile`` to the reference ``areas`` (in place) from ``found`` (area labels x settings);
    returns each frame row's row of ``found``."""
    n_areas = found.shape[0]
    fam = np.array([s.family for s in settings])

    def share(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        return found[:, mask].mean(axis=1) if mask.any() else np.full(n_areas, np.nan)

    ids = areas["area_id"].to_numpy(int) - 1  # area_id is the label of the area's cells
    areas["robustness"] = found.mean(axis=1)[ids] if settings else np.nan
    areas["settings_found"] = found.sum(axis=1)[ids]
    areas["grid_robustness"] = share(fam == "grid")[ids]
    areas["radius_robustness"] = share(fam == "radius")[ids]
    areas["fragile"] = areas["robustness"] < fragile_below
    return ids


def hotspot_robustness(
    incidents: gpd.GeoDataFrame,
    grid: Grid,
    method: str = "gistar",
    confidence: int = 95,
    correction: str = "fdr",
    band_m: float = 0.0,
    kde_percentile: float = 99.0,
    radius_m: float | None = None,
    scales: Iterable[float] = SCALES,
    shifts: Iterable[tuple[float, float]] = SHIFTS,
    radius_scales: Iterable[float] = SCALES,
    min_overlap: float = 0.5,
    fragile_below: float = 0.5,
    min_cells: int = 1,
    weights: str | npt.ArrayLike | None = None,
    grids: SweepGrids | None = None,
    wards: gpd.GeoDataFrame | None = None,
    harm_scheme: str = "",
    label: str = "",
) -> HotspotRobustness:
    """Share of alternative grids and radii in which each reference hotspot area is found.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents contract (x, y in EPSG:27700; crime_type, harm, location_text for the area table).
    grid : Grid
        The reference grid (built over the study area boundary).
    method : "gistar" or "kde"
        How the reference run (and the grid settings) find hot cells.
    confidence, correction, band_m : Gi* settings (95% under FDR, queen neighbours by default).
    kde_percentile : KDE cells at or above this percentile are hot (default 99).
    radius_m : KDE search radius in metres; None = the spatial Silverman rule.
    scales, shifts : grid settings (see :func:`sweep_grids`); ignored when ``grids`` is given.
    radius_scales : multiples of the radius for the radius settings (empty: none).
    min_overlap : overlap coefficient (shared area / the smaller area) a setting's hot area
        needs with a reference area to find it (default 0.5).
    fragile_below : an area found in a smaller share of settings is fragile (default 0.5).
    min_cells, wards, harm_scheme, label : passed to the reference :func:`hotspot_areas`.
    weights : per-incident weights (array or column name, e.g. "harm"); default counts.
    """
    _check_sweep_settings(method, confidence, min_overlap, fragile_below, kde_percentile, radius_scales)
    if not (hasattr(incidents, "columns") and {"x", "y"} <= set(incidents.columns)):
        raise InputError(
            "hotspot_robustness needs incidents as a (Geo)DataFrame with x and y columns in metres "
            "(EPSG:27700), as the engine's ingest gives them."
        )
    x, y = points_xy(incidents)
    w = incidents[weights].to_numpy(float) if isinstance(weights, str) else weights
    if grids is None:
        grids = sweep_grids(grid, scales, shifts)
    elif grids.reference is not grid:
        raise InputError(
            "the sweep grids were built for another reference grid; build them with sweep_grids(grid) for this one."
        )

    kde = hotspot_kde(np.column_stack([x, y]), grid=grid, radius_m=radius_m, weights=w)
    radius, rule = kde.radius_m, kde.radius_rule
    if method == "gistar":
        hot_ref = _hot_cells("gistar", x, y, w, grid, band_m, correction, confidence, radius, kde_percentile)
        criterion = f"Gi* hot at {confidence}% ({correction})"
    else:
        hot_ref = kde.percentile_mask(kde_percentile)
        criterion = f"kernel density at or above the {kde_percentile:g}th percentile, radius {radius:.0f} m"
    ref = hotspot_areas(
        incidents,
        grid,
        hot_ref,
        wards=wards,
        harm_scheme=harm_scheme,
        method=method,
        criterion=criterion,
        min_cells=min_cells,
        profile="never",
        label=label,
    )
    # reference frame ids follow rank; the label array uses the pre-ranking ids in area_id
    lab = ref.labels
    rows, cols = np.nonzero(lab)
    labels = lab[rows, cols].astype(np.int64)
    n_areas = int(lab.max()) if lab.size else 0

    radius_settings = _radius_settings(method, radius, radius_scales, grid)
    settings = [*grids.settings, *radius_settings]
    hot_list = [
        (g, _hot_cells(method, x, y, w, g, band_m, correction, confidence, radius, kde_percentile)) for g in grids.grids
    ]
    hot_list += [
        (grid, _hot_cells("kde", x, y, w, grid, band_m, correction, confidence, s.radius_m, kde_percentile))
        for s in radius_settings
    ]

    overlap = np.zeros((n_areas, len(settings)))
    for j, (g, hot) in enumerate(hot_list):
        if n_areas:
            overlap[:, j] = best_overlap(rows, cols, labels, n_areas, grid, hot, g)
    found = overlap >= min_overlap - 1e-12

    areas = ref.frame.copy()
    if n_areas:
        ids = _robustness_columns(areas, found, settings, fragile_below)
        overlap, found = overlap[ids], found[ids]
    else:
        for c in ("robustness", "settings_found", "grid_robustness", "radius_robustness", "fragile"):
            areas[c] = pd.Series(dtype=float)
    table = pd.DataFrame([dataclasses.asdict(s) for s in settings])
    table["hot_cells"] = [int(h.sum()) for _, h in hot_list]
    table["hot_area_m2"] = [float(h.sum()) * g.cell_size**2 for g, h in hot_list]
    return HotspotRobustness(
        areas=areas,
        settings=table,
        overlap=overlap,
        found=found,
        reference=ref,
        method=method,
        criterion=criterion,
        min_overlap=float(min_overlap),
        fragile_below=float(fragile_below),
        radius_m=float(radius),
        radius_rule=rule,
    )
