"""The coverage report: which harm the cameras see, the gaps, new CCTV and ANPR sites.

:func:`coverage_report` takes the incidents, the study area, the grid and the
camera inventories with the ``[cameras]``, ``[coverage]``, ``[siting]`` and
``[anpr]`` settings and returns a :class:`~hotspots.coverage.result.CoverageResult`,
whose ``write(out_dir)`` writes the coverage report for the CCTV project board
(:func:`hotspots.render.coverage.write_coverage_report` adds the public map, whose
counts come from the one public aggregation, :mod:`hotspots.render.public`):

=========================  ==========================================================
``coverage_by_type.csv``   incidents and harm seen by live cameras, per crime type
``gaps.csv`` / ``.gpkg``   gap places: named by their streets and ward, their own harm
``proposed_sites.csv``     k new camera sites, each named by its nearest street (MCLP)
``marginal_gain.csv/png``  harm covered with 1..k new cameras
``set_cover.csv``          fewest new cameras to see [siting] target_share of harm
``anpr_entry_points.csv``  where roads enter the area, weights, coverage
``anpr_proposed_readers``  new ANPR readers with their road and the reason they rank
``cameras_rejected.csv``   inventory rows not used, with reasons
``coverage.gpkg``          viewsheds, gaps, proposed sites, entry points (working CRS)
``summary.json``           figures, solver status, notes, which inventories were used
=========================  ==========================================================

All geometry is in the working CRS (metres; the grid's CRS).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..analysis.hotspot_places import automatic_merge_distance
from ..announce import choose
from ..config.sections import AnprConfig, CamerasConfig, CoverageConfig, SitingConfig
from ..errors import InputError
from ..geo.checks import require_points, require_same_crs
from ..geo.grid import Grid
from ..geo.streets import StreetPoints
from ..geo.study_area import StudyArea
from .anpr import AnprResult, run_anpr
from .cameras import CameraInventory, make_cameras, restrict_to_area
from .candidates import generate_candidates
from .coverage import compute_coverage
from .gaps import gap_places
from .mobile import mobile_deployments
from .readers import read_outline, read_roads, read_sites
from .result import SITE_COLUMNS, CoverageResult, ViewSettings
from .siting import (
    LP_SOLVERS,
    MCLPSolution,
    SetCoverSolution,
    cover_prices,
    coverage_matrix,
    marginal_curve,
    set_cover,
    solve_mclp,
)
from .uncertain import seen_probability
from .viewshed import Obstruction, viewshed_polygons


# --------------------------------------------------------------------------- steps of the report
def period_incidents(incidents: pd.DataFrame, cov: CoverageConfig) -> tuple[pd.DataFrame, tuple[str, str], list[str]]:
    """The incidents of ``[coverage]`` period and crime types, the period as ISO dates, notes."""
    inc = incidents
    notes = []
    start = end = ""
    if "start" in inc.columns and len(inc):
        s = inc["start"]
        tz = s.dt.tz
        if cov.period_start:
            t0 = pd.Timestamp(cov.period_start)
            t0 = t0.tz_localize(tz) if tz is not None and t0.tzinfo is None else t0
            inc = inc[inc["start"] >= t0]
        if cov.period_end:
            t1 = pd.Timestamp(cov.period_end) + pd.Timedelta(days=1)
            t1 = t1.tz_localize(tz) if tz is not None and t1.tzinfo is None else t1
            inc = inc[inc["start"] < t1]
        if len(inc):
            start = str(inc["start"].min().date())
            end = str(inc["start"].max().date())
    if cov.crime_types:
        inc = inc[inc["crime_type"].isin(list(cov.crime_types))]
        notes.append(f"crime types analysed: {', '.join(cov.crime_types)}")
    return inc, (cov.period_start or start, cov.period_end or end), notes


def harm_of(incidents: pd.DataFrame, harm_weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Harm per incident: the ``harm`` column, else the weight of its crime type (1 when unknown)."""
    if "harm" in incidents.columns:
        return incidents["harm"].to_numpy(float)
    w = dict(harm_weights or {})
    return incidents["crime_type"].map(w).fillna(1.0).to_numpy(float)


def _inventory(
    inventory: CameraInventory, boundary: BaseGeometry, cams: CamerasConfig, label: str
) -> tuple[CameraInventory, str, list[str]]:
    """The inventory restricted to the study area, how reports name it, and notes."""
    if cams.max_distance_from_area_m >= 0:
        inventory = restrict_to_area(inventory, boundary, cams.max_distance_from_area_m)
    label = label or inventory.source  # the inventories' labels (file names by default), never a local path
    notes = [f"camera inventory used: {label}"]
    if len(inventory.rejected):
        notes.append(
            f"{len(inventory.rejected)} inventory row(s) not used (invalid, or farther than "
            "[cameras] max_distance_from_area_m from the study area): reasons in cameras_rejected.csv"
        )
    return inventory, label, notes


def _obstruction_note(obstruction: Obstruction | None) -> str:
    if obstruction is not None:
        return "viewsheds clipped by line of sight over " + (obstruction.source or "the obstruction raster")
    return "no obstruction raster: viewsheds are geometric sectors (flat ground, nothing blocks the view)"


@dataclass(frozen=True, eq=False)
class _Demand:
    """Where harm happens, as the siting model sees it: demand points (metres) and their weights."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    note: str


def _siting_demand(
    grid: Grid,
    boundary: BaseGeometry,
    hpc: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    harm: np.ndarray,
    sit: SitingConfig,
) -> _Demand:
    if sit.demand_cell_m > 0:
        cs = min(sit.demand_cell_m, grid.cell_size)
        dx, dy, dw = harm_on_cells(boundary, cs, x, y, harm)
        return _Demand(dx, dy, dw, f"siting demand: incident harm on {cs:g} m cells")
    rows, cols = np.nonzero(grid.mask & (hpc > 0))
    xc, yc = grid.centres()
    note = f"siting demand: harm per analysis-grid cell ({grid.cell_size:g} m)"
    return _Demand(xc[rows, cols], yc[rows, cols], hpc[rows, cols], note)


def harm_on_cells(
    boundary: BaseGeometry, cell_m: float, x: np.ndarray, y: np.ndarray, harm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Harm summed on square cells of ``cell_m`` metres: (centre x, centre y, harm) of the cells holding harm.

    The cells are those of ``Grid.from_boundary(boundary, cell_m)`` (aligned to
    multiples of the cell size, touching the boundary, row-major order), but only
    the cells that hold incidents are built: a 25 m grid over a borough has
    about 140,000 cells and the demand needs a few thousand.
    """
    minx, miny, maxx, maxy = boundary.bounds
    cs = float(cell_m)
    x0, y1 = math.floor(minx / cs) * cs, math.ceil(maxy / cs) * cs
    ncols, nrows = int(math.ceil((maxx - x0) / cs)), int(math.ceil((y1 - miny) / cs))
    x, y = np.asarray(x, float), np.asarray(y, float)
    col = np.floor((x - x0) / cs)
    row = np.floor((y1 - y) / cs)
    ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < ncols) & (row >= 0) & (row < nrows)
    ids = row[ok].astype(np.int64) * ncols + col[ok].astype(np.int64)
    cells, inv = np.unique(ids, return_inverse=True)
    h = np.bincount(inv, weights=np.asarray(harm, float)[ok], minlength=len(cells))
    r, c = cells // ncols, cells % ncols
    boxes = shapely.box(x0 + c * cs, y1 - (r + 1) * cs, x0 + (c + 1) * cs, y1 - r * cs)
    shapely.prepare(boundary)
    inside = shapely.contains_properly(boundary, boxes)
    edge = shapely.intersects(boundary, boxes) & ~inside
    touches = inside.copy()
    if edge.any():
        touches[edge] = shapely.area(shapely.intersection(boundary, boxes[edge])) > 0
    keep = touches & (h > 0)
    return x0 + (c[keep] + 0.5) * cs, y1 - (r[keep] + 0.5) * cs, h[keep]


def _generated_candidates(
    grid: Grid,
    area: StudyArea,
    hpc: np.ndarray,
    hotspot_areas: gpd.GeoDataFrame | None,
    cov: CoverageConfig,
    sit: SitingConfig,
) -> tuple[gpd.GeoDataFrame, str]:
    """Candidate sites around the high-harm cells and hotspot areas (on roads when there are roads)."""
    pos = hpc[hpc > 0]
    thr = float(np.quantile(pos, cov.high_harm_quantile)) if len(pos) else np.inf
    rr, cc = np.nonzero(grid.mask & (hpc >= thr) & (hpc > 0))
    cs = grid.cell_size
    focus = list(
        shapely.box(grid.xmin + cc * cs, grid.ymax - (rr + 1) * cs, grid.xmin + (cc + 1) * cs, grid.ymax - rr * cs)
    )
    if hotspot_areas is not None and len(hotspot_areas):
        focus += list(hotspot_areas.to_crs(grid.crs).geometry)
    roads = area.roads if sit.candidate_source != "lattice" else None
    if sit.candidate_source == "roads" and roads is None:
        raise InputError(
            '[siting] candidate_source = "roads" but the study area has no roads; set '
            '[study_area] roads or use candidate_source = "lattice".'
        )
    cand = generate_candidates(
        shapely.union_all(focus) if focus else area.boundary,
        roads,
        area.boundary,
        sit.candidate_spacing_m,
        sit.candidate_buffer_m,
        sit.max_candidates,
        crs=grid.crs,
    )
    note = (
        f"{len(cand)} candidate sites generated {'on roads' if roads is not None else 'on a lattice'}"
        f" every {sit.candidate_spacing_m:g} m within {sit.candidate_buffer_m:g} m of the "
        f"high-harm cells{' and hotspot areas' if hotspot_areas is not None else ''}"
    )
    return cand, note


@dataclass(frozen=True, eq=False)
class _Siting:
    """The solved siting problem: MCLP, the 1..k curve, set cover, the proposed sites, k used, notes."""

    mclp: MCLPSolution
    curve: pd.DataFrame
    set_cover: SetCoverSolution
    proposed: gpd.GeoDataFrame
    k: int
    notes: tuple[str, ...]


def _solve_siting(
    cand: gpd.GeoDataFrame,
    demand: _Demand,
    inventory: CameraInventory,
    live: gpd.GeoDataFrame,
    obstruction: Obstruction | None,
    cams: CamerasConfig,
    sit: SitingConfig,
    k: int,
) -> _Siting:
    """Where ``k`` new cameras see the most demand harm beyond what the fixed cameras see."""
    mh, th = cams.mount_height_m, cams.target_height_m
    ctype = sit.candidate_type
    fov = sit.candidate_fov_deg or 360.0
    rng_m = sit.candidate_range_m or cams.default_range(ctype)
    cand_cams = make_cameras(
        cand["x"], cand["y"], ctype, rng_m, 0.0, fov, ids=cand["site_id"], config=cams, crs=cand.crs
    )
    notes = [
        f"new cameras modelled as {ctype} with {rng_m:g} m range, {fov:g} deg view; a cell counts as "
        "covered when its centre is seen"
    ]
    A = coverage_matrix(cand_cams, demand.x, demand.y, obstruction, mh, th)
    fixed_cams = live
    if sit.include_planned:
        pl = inventory.cameras[
            (inventory.cameras["status"] == "planned") & inventory.cameras["type"].isin(list(cams.coverage_types))
        ]
        fixed_cams = pd.concat([live, pl], ignore_index=True)
        notes.append(f"siting: {len(pl)} planned camera(s) counted as existing coverage")
    seen = seen_probability(fixed_cams, demand.x, demand.y, obstruction, mh, th, cams.position_samples)
    total = float(demand.w.sum())
    kk = max(1, min(k, len(cand))) if len(cand) else 0
    if kk == 0:
        raise InputError("no candidate camera sites: give [siting] candidates or roads in [study_area] roads.")
    # the LP prices of one number of cameras settle others on the curve
    prices = cover_prices(A, demand.w, seen=seen) if sit.solver in LP_SOLVERS else None
    sol = solve_mclp(
        A,
        demand.w,
        kk,
        seen=seen,
        method=sit.solver,
        time_limit_s=sit.time_limit_s,
        spopt_max_terms=sit.spopt_max_terms,
        prices=prices,
    )
    curve = marginal_curve(
        A,
        demand.w,
        kk,
        method=sit.solver,
        curve=sit.curve,
        time_limit_s=sit.time_limit_s,
        spopt_max_terms=sit.spopt_max_terms,
        total=total,
        seen=seen,
        solved=sol,
        prices=prices,
    )
    sc = set_cover(A, demand.w, sit.target_share, total=total, time_limit_s=sit.time_limit_s, seen=seen)
    return _Siting(sol, curve, sc, _proposed_sites(cand, sol, total, ctype, rng_m), kk, tuple(notes))


def name_sites(
    sites: gpd.GeoDataFrame, streets: StreetPoints | None, wards: gpd.GeoDataFrame, within_m: float = 500.0
) -> gpd.GeoDataFrame:
    """Name proposed sites by their nearest street (police.uk points within ``within_m`` metres) and ward:
    adds ``street``, ``street_distance_m``, ``ward_code``, ``ward_name`` and ``label``."""
    s = sites.copy()
    if streets is not None and len(s):
        names, d = streets.nearest(s["x"].to_numpy(float), s["y"].to_numpy(float), within_m)
    else:
        names, d = np.full(len(s), "", dtype=object), np.full(len(s), np.inf)
    s["street"] = names
    s["street_distance_m"] = np.where(np.isfinite(d), np.round(d, 0), np.nan)
    codes, wnames = _wards_at(s, wards)
    s["ward_code"], s["ward_name"] = codes, wnames
    s["label"] = [
        f"Proposed camera site {r}: " + (f"{n}" if n else "no named street nearby") + (f" ({w})" if w else "")
        for r, n, w in zip(s["rank"], names, wnames, strict=True)
    ]
    return gpd.GeoDataFrame(s[[*SITE_COLUMNS, "geometry"]], geometry="geometry", crs=sites.crs)


def _wards_at(points: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    """The ward code and name at each point ("" outside every ward)."""
    if not len(points) or wards is None or not len(wards):
        return [""] * len(points), [""] * len(points)
    pi, wi = shapely.STRtree(wards.geometry.to_numpy()).query(points.geometry.to_numpy(), predicate="intersects")
    codes, names = [""] * len(points), [""] * len(points)
    for p, w in zip(pi[::-1], wi[::-1], strict=True):  # the first ward wins on a shared edge
        codes[p], names[p] = str(wards["ward_code"].iat[w]), str(wards["ward_name"].iat[w])
    return codes, names


def _proposed_sites(
    cand: gpd.GeoDataFrame, sol: MCLPSolution, total: float, ctype: str, rng_m: float
) -> gpd.GeoDataFrame:
    ps = cand.iloc[list(sol.chosen)].copy().reset_index(drop=True)
    ps.insert(0, "rank", np.arange(1, len(ps) + 1))
    ps["expected_harm_covered"] = np.round(sol.gains, 3)
    ps["cumulative_harm_covered"] = np.round(sol.fixed_covered + np.cumsum(sol.gains), 3)
    ps["cumulative_share"] = np.round(ps["cumulative_harm_covered"] / total, 4) if total > 0 else 0.0
    ps["camera_type"] = ctype
    ps["range_m"] = rng_m
    ps["method"] = sol.method
    return gpd.GeoDataFrame(ps, geometry="geometry", crs=cand.crs)


def _gap_candidates(
    grid: Grid, hpc: np.ndarray, hotspot_areas: gpd.GeoDataFrame | None, cov: CoverageConfig
) -> gpd.GeoDataFrame:
    """The polygons gap places are made of: the hotspot areas of every crime type (``source`` = the type),
    the same areas the tasking list's places are made of; without hotspot areas, the high-harm squares of
    the grid (``source`` = "cell")."""
    if hotspot_areas is not None and len(hotspot_areas):
        ha = hotspot_areas.reset_index(drop=True)
        n = len(ha)
        ids = ha["area_id"].astype(str).to_numpy() if "area_id" in ha.columns else [f"area_{i + 1}" for i in range(n)]
        src = ha["label"].astype(str).to_numpy() if "label" in ha.columns else [""] * n
        return gpd.GeoDataFrame({"area_id": ids, "source": src}, geometry=ha.geometry.values, crs=grid.crs)
    pos = hpc[grid.mask & (hpc > 0)]
    if not len(pos):
        return gpd.GeoDataFrame({"area_id": [], "source": []}, geometry=[], crs=grid.crs)
    thr = float(np.quantile(pos, cov.high_harm_quantile))
    rr, cc = np.nonzero(grid.mask & (hpc >= thr) & (hpc > 0))
    cs = grid.cell_size
    boxes = shapely.box(grid.xmin + cc * cs, grid.ymax - (rr + 1) * cs, grid.xmin + (cc + 1) * cs, grid.ymax - rr * cs)
    ids = [f"cell_{int(r * grid.ncols + c)}" for r, c in zip(rr, cc, strict=True)]
    return gpd.GeoDataFrame({"area_id": ids, "source": "cell"}, geometry=boxes, crs=grid.crs)


def _anpr(
    inc: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    harm: np.ndarray,
    area: StudyArea,
    inventory: CameraInventory,
    anpr: AnprConfig,
    roads: gpd.GeoDataFrame | None,
    outline: BaseGeometry | None,
    anpr_k: int | None,
    streets: StreetPoints | None,
    neighbours: gpd.GeoDataFrame | None,
) -> tuple[AnprResult | None, list[str]]:
    """ANPR entry points and readers, when there are road lines or street points; notes either way."""
    roads = roads if roads is not None else area.roads
    has_roads = roads is not None and len(roads) > 0
    if not has_roads and (streets is None or not len(streets)):
        return None, ["ANPR siting skipped: no road lines (set [study_area] roads or [anpr] roads)"]
    sel = inc["crime_type"].isin(list(anpr.crime_types)).to_numpy()
    res = run_anpr(
        outline if outline is not None else area.boundary,
        roads,
        inventory.cameras,
        anpr,
        x[sel],
        y[sel],
        harm[sel],
        k=anpr_k,
        crs=area.crs,
        streets=streets,
        neighbours=neighbours,
    )
    notes = [f"ANPR: {n}" for n in res.notes]
    if res.shortfall:
        notes.append(f"ANPR: {res.shortfall}")
    return res, [*notes, "ANPR: flows along the road network are not modelled; entry-point weights stand in for them"]


def _viewsheds(live: gpd.GeoDataFrame, obstruction: Obstruction | None, cams: CamerasConfig) -> gpd.GeoDataFrame:
    """One viewshed per live camera at its mapped position, with its inventory, description and positional error."""
    v = viewshed_polygons(live, obstruction, cams.mount_height_m, cams.target_height_m)
    for c in ("inventory", "description", "position_quality", "position_error_m"):
        v[c] = live[c].to_numpy() if c in live.columns else ""
    return v


# --------------------------------------------------------------------------- the report
def coverage_report(
    incidents: pd.DataFrame,
    study_area: StudyArea,
    grid: Grid,
    inventory: CameraInventory,
    *,
    cameras: CamerasConfig | None = None,
    coverage: CoverageConfig | None = None,
    siting: SitingConfig | None = None,
    anpr: AnprConfig | None = None,
    harm_per_cell: np.ndarray | None = None,
    hotspot_areas: gpd.GeoDataFrame | None = None,
    obstruction: Obstruction | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    anpr_roads: gpd.GeoDataFrame | None = None,
    anpr_outline: BaseGeometry | None = None,
    anpr_streets: StreetPoints | None = None,
    anpr_neighbours: gpd.GeoDataFrame | None = None,
    streets: StreetPoints | None = None,
    merge_distance_m: float | None = None,
    harm_weights: Mapping[str, float] | None = None,
    inventory_label: str = "",
    k: int | None = None,
    anpr_k: int | None = None,
    mobile_zones: gpd.GeoDataFrame | None = None,
    mobile_start=None,
) -> CoverageResult:
    """The coverage report (see the module docstring).

    ``incidents`` follows the Incidents contract (at least ``x, y, crime_type``
    and ``harm`` or ``harm_weights``; ``start`` for period filtering,
    ``location_text`` and ``ward_code`` to name gap places), in the grid's CRS
    like the study area, the cameras and ``hotspot_areas``. ``harm_per_cell``
    (nrows, ncols) on ``grid`` is recomputed from the incidents when None or
    when ``coverage`` narrows the period or crime types. ``candidates`` are
    given camera sites (else generated around the high-harm cells);
    ``anpr_roads`` / ``anpr_outline`` replace the study area's roads and
    boundary for ANPR entry points; ``streets`` is the area's street index
    (default: from the incidents' location texts) and ``anpr_streets`` adds the
    points beyond the boundary; ``anpr_neighbours`` names where each entry
    leads. ``merge_distance_m`` is the one rule for a place (None or 0: automatic,
    :func:`hotspots.analysis.hotspot_places.automatic_merge_distance` over ``incidents``,
    announced); ``k`` / ``anpr_k`` override the number of new cameras / readers.
    """
    cams, cov = cameras or CamerasConfig(), coverage or CoverageConfig()
    sit, anpr_cfg = siting or SitingConfig(), anpr or AnprConfig()
    require_points(incidents, "coverage_report: incidents", ("x", "y", "crime_type"))
    require_same_crs(
        ("grid", grid),
        ("coverage_report: incidents", incidents),
        ("study_area", study_area),
        ("cameras", inventory.cameras),
        *((("hotspot_areas", hotspot_areas),) if hotspot_areas is not None else ()),
    )
    inventory, label, notes = _inventory(inventory, study_area.boundary, cams, inventory_label)
    notes += [f"cameras: {s}" for s in (s.statement() for s in inventory.summaries())]
    notes.append(_obstruction_note(obstruction))
    live = inventory.live(cams.coverage_types)
    inc, period, pnotes = period_incidents(incidents, cov)
    notes += pnotes
    x, y = inc["x"].to_numpy(float), inc["y"].to_numpy(float)
    harm = harm_of(inc, harm_weights)
    if harm_per_cell is None or cov.period_start or cov.period_end or cov.crime_types:
        if harm_per_cell is not None:
            notes.append("harm per cell recomputed from the incidents of the chosen period / crime types")
        harm_per_cell = grid.counts(x, y, harm)
    hpc = np.where(grid.mask, np.asarray(harm_per_cell, float), 0.0)
    stats = compute_coverage(
        live,
        x,
        y,
        inc["crime_type"].to_numpy(object),
        harm,
        grid,
        hpc,
        obstruction,
        cov,
        cams.mount_height_m,
        cams.target_height_m,
        cams.position_samples,
    )
    streets = streets if streets is not None else StreetPoints.from_incidents(incidents, grid.crs)
    choices: dict[str, str] = {}
    if merge_distance_m:
        merge_m = float(merge_distance_m)
    else:
        # over every incident given (the analysis window in a pack), as the tasking list does: the same distance
        merge_m, spacing = automatic_merge_distance(
            grid.cell_size, incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
        )
        choose(
            choices,
            "merge_distance_m",
            f"CCTV gap places: areas within {merge_m:g} m of each other are one place (the larger of "
            f"the {grid.cell_size:g} m grid cell and the {spacing:.0f} m median spacing of neighbouring incident "
            "locations, the tasking list's rule; set [tasking] merge_distance_m to change it)",
        )
    gaps = gap_places(
        _gap_candidates(grid, hpc, hotspot_areas, cov),
        x,
        y,
        inc["crime_type"].to_numpy(object),
        harm,
        stats.incident_seen,
        location_text=inc["location_text"].to_numpy(object) if "location_text" in inc.columns else None,
        ward_code=inc["ward_code"].fillna("").astype(str).to_numpy(object) if "ward_code" in inc.columns else None,
        ward_names=dict(zip(study_area.wards["ward_code"].astype(str), study_area.wards["ward_name"], strict=True)),
        streets=streets,
        merge_distance_m=merge_m,
        gap_threshold=cov.gap_threshold,
        max_gaps=cov.max_gaps,
    )
    what = (
        "hotspot areas of every crime type"
        if hotspot_areas is not None and len(hotspot_areas)
        else (f"high-harm squares (the top {100 * (1 - cov.high_harm_quantile):g}% of squares with harm)")
    )
    notes.append(
        f"gap places: {what} within {merge_m:g} m of each other are one place, named by its streets "
        "(police.uk location texts)"
    )
    demand = _siting_demand(grid, study_area.boundary, hpc, x, y, harm, sit)
    notes.append(demand.note)
    if candidates is not None:
        cand = candidates
        notes.append(f"candidate sites from {sit.candidates}")
    else:
        cand, note = _generated_candidates(grid, study_area, hpc, hotspot_areas, cov, sit)
        notes.append(note)
    sited = _solve_siting(cand, demand, inventory, live, obstruction, cams, sit, sit.k if k is None else int(k))
    notes += list(sited.notes)
    anpr_streets_all = streets.concat(anpr_streets) if anpr_streets is not None else streets
    anpr_res, anotes = _anpr(
        inc,
        x,
        y,
        harm,
        study_area,
        inventory,
        anpr_cfg,
        anpr_roads,
        anpr_outline,
        anpr_k,
        anpr_streets_all if anpr_streets is not None else None,
        anpr_neighbours,
    )
    notes += anotes
    mobile = None
    if mobile_zones is not None and len(mobile_zones):
        mobile = mobile_deployments(mobile_zones, live, start=mobile_start, x=x, y=y, harm=harm, crs=grid.crs)
    return CoverageResult(
        inventory=inventory,
        inventory_label=label,
        live=live,
        stats=stats,
        viewsheds=_viewsheds(live, obstruction, cams),
        gaps=gaps,
        candidates=cand,
        mclp=sited.mclp,
        proposed_sites=name_sites(sited.proposed, streets, study_area.wards),
        curve=sited.curve,
        set_cover=sited.set_cover,
        anpr=anpr_res,
        mobile=mobile,
        view=ViewSettings(obstruction, cams.mount_height_m, cams.target_height_m, cams.position_samples),
        cameras_config=cams,
        boundary=study_area.boundary,
        period=period,
        k=sited.k,
        notes=tuple(notes),
        choices=choices,
    )


__all__ = [
    "CoverageResult",
    "coverage_report",
    "harm_on_cells",
    "name_sites",
    "read_outline",
    "read_roads",
    "read_sites",
]
