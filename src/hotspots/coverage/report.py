"""The coverage report: which harm the cameras see, the gaps, new CCTV and ANPR sites.

:func:`coverage_report` takes the incidents, the study area, the grid and a
camera inventory with the ``[cameras]``, ``[coverage]``, ``[siting]`` and
``[anpr]`` settings and returns a :class:`CoverageResult`, whose
``write(out_dir)`` writes the coverage report for the CCTV project board
(:func:`hotspots.render.coverage.write_coverage_report` adds the public map):

=========================  ==========================================================
``coverage_by_type.csv``   incidents and harm seen by live cameras, per crime type
``gaps.csv`` / ``.gpkg``   hotspot areas and high-harm cells outside every viewshed
``proposed_sites.csv``     k new camera sites with the harm each adds (MCLP)
``marginal_gain.csv/png``  harm covered with 1..k new cameras
``set_cover.csv``          fewest new cameras to see [siting] target_share of harm
``anpr_entry_points.csv``  borough entry points, weights, coverage, new readers
``cameras_rejected.csv``   inventory rows not used, with reasons
``coverage.gpkg``          viewsheds, gaps, proposed sites, entry points (working CRS)
``summary.json``           figures, solver status, notes, which inventory was used
``public/public_map.html`` aggregated public-consultation map (no incident detail)
=========================  ==========================================================

All geometry is in the working CRS (metres; the grid's CRS).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .._csvsafe import excel_safe
from ..config.sections import AnprConfig, CamerasConfig, CoverageConfig, SitingConfig
from ..crs import DEFAULT_CRS
from ..errors import InputError
from ..geo.checks import require_points, require_same_crs
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .anpr import AnprResult, run_anpr
from .cameras import CameraInventory, make_cameras, restrict_to_area
from .candidates import generate_candidates
from .coverage import CoverageStats, compute_coverage
from .mobile import MobilePlan, mobile_deployments
from .public_map import public_cells
from .siting import (
    MCLPSolution,
    SetCoverSolution,
    coverage_matrix,
    marginal_curve,
    plot_marginal_curve,
    set_cover,
    solve_mclp,
)
from .uncertain import seen_probability
from .viewshed import Obstruction, viewshed_polygons


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Everything the coverage report shows (frames in the working CRS)."""

    inventory: CameraInventory
    inventory_label: str
    stats: CoverageStats
    viewsheds: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    mclp: MCLPSolution
    proposed_sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    set_cover: SetCoverSolution
    anpr: AnprResult | None
    mobile: MobilePlan | None
    public_cells: gpd.GeoDataFrame
    boundary: BaseGeometry | None = field(repr=False, default=None)
    period: tuple[str, str] = ("", "")
    k: int = 0
    public_min_count: int = 5
    notes: tuple[str, ...] = ()

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        return self.stats.by_type

    def summary(self) -> dict[str, Any]:
        bt = self.stats.by_type.set_index("crime_type")
        allrow = bt.loc["all"] if "all" in bt.index else None
        c = self.curve
        out = {
            "inventory": self.inventory_label,
            "cameras": {f"{r.type}/{r.status}": int(r.n) for r in self.inventory.summary().itertuples()},
            "cameras_rejected": int(len(self.inventory.rejected)),
            "live_cameras_used": int(self.stats.n_cameras),
            "period": {"start": self.period[0], "end": self.period[1]},
            "incidents": int(allrow["incidents"]) if allrow is not None else 0,
            "share_incidents_covered": float(allrow["share_incidents"]) if allrow is not None else 0.0,
            "share_harm_covered": float(allrow["share_harm"]) if allrow is not None else 0.0,
            "gaps": int(len(self.stats.gaps)),
            "siting": {
                "k": self.k,
                "candidates": int(len(self.candidates)),
                "method": self.mclp.method,
                "status": self.mclp.status,
                "solve_seconds": round(self.mclp.seconds, 3),
                "demand_harm_covered_existing": self.mclp.fixed_covered,
                "demand_harm_covered_with_new": self.mclp.covered,
                "bound": self.mclp.bound,
                "gap": self.mclp.gap,
                "share_with_new": float(c["share_covered"].iloc[-1]) if len(c) else 0.0,
            },
            "set_cover": self.set_cover.to_frame().iloc[0].to_dict(),
            "anpr": (self.anpr.summary().iloc[0].to_dict() if self.anpr is not None else None),
            "notes": list(self.notes),
        }
        return json.loads(json.dumps(out, default=lambda o: o.item() if hasattr(o, "item") else str(o)))

    def map_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """GeoDataFrames (working CRS) for the renderer: viewsheds, gaps, proposed sites with expected covered
        harm, ANPR entry points and readers, mobile spots."""
        layers = {
            "viewsheds": self.viewsheds,
            "gaps": self.stats.gaps,
            "proposed_sites": self.proposed_sites,
            "cameras": self.inventory.cameras,
        }
        if self.anpr is not None:
            layers["anpr_entry_points"] = self.anpr.entries
            layers["anpr_readers"] = self.anpr.readers
        if self.mobile is not None:
            layers["mobile_spots"] = self.mobile.spots
        return layers

    # ------------------------------------------------------------------ output
    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the coverage report's tables, plot and layers into ``out_dir`` (created); returns the files.

        The public-consultation page is written by :func:`hotspots.render.coverage.write_coverage_report`.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = []

        def csv(df, name):
            p = out / name
            excel_safe(pd.DataFrame(df).drop(columns=["geometry"], errors="ignore")).to_csv(p, index=False)
            files.append(p)

        csv(self.stats.by_type, "coverage_by_type.csv")
        csv(self.stats.gaps, "gaps.csv")
        csv(self.proposed_sites, "proposed_sites.csv")
        csv(self.curve, "marginal_gain.csv")
        csv(self.set_cover.to_frame(), "set_cover.csv")
        csv(self.inventory.rejected, "cameras_rejected.csv")
        files.append(
            plot_marginal_curve(
                self.curve, out / "marginal_gain.png", title=f"Harm covered with 1..{self.k} new cameras"
            )
        )
        if self.anpr is not None:
            csv(self.anpr.entries, "anpr_entry_points.csv")
            csv(self.anpr.readers, "anpr_proposed_readers.csv")
        if self.mobile is not None:
            csv(self.mobile.spots, "mobile_deployments.csv")
        gpkg = out / "coverage.gpkg"
        if gpkg.exists():
            gpkg.unlink()
        for name, g in self.map_layers().items():
            if g is not None and len(g):
                g.to_file(gpkg, layer=name, driver="GPKG")
        if len(self.stats.gaps):
            gp = out / "gaps.gpkg"
            if gp.exists():
                gp.unlink()
            self.stats.gaps.to_file(gp, layer="gaps", driver="GPKG")
            files.append(gp)
        files.append(gpkg)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2))
        files.append(out / "summary.json")
        return files


# --------------------------------------------------------------------------- readers
def read_sites(path: Path, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """Candidate camera sites from a CSV (x,y in ``crs`` or lon,lat) or a vector file, in ``crs``.

    Columns ``site_id, x, y, source, road_class, road_name, geometry``.
    """
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
        cols = {c.lower(): c for c in df.columns}
        if "x" in cols and "y" in cols:
            x, y = pd.to_numeric(df[cols["x"]], errors="coerce"), pd.to_numeric(df[cols["y"]], errors="coerce")
            src_crs = crs
        elif "lon" in cols and "lat" in cols:
            x, y = pd.to_numeric(df[cols["lon"]], errors="coerce"), pd.to_numeric(df[cols["lat"]], errors="coerce")
            src_crs = "EPSG:4326"
        else:
            raise InputError(f"{path}: candidate sites need x,y (in the working CRS) or lon,lat columns.")
        bad = np.nonzero((~np.isfinite(x.to_numpy(float))) | (~np.isfinite(y.to_numpy(float))))[0]
        if len(bad):
            raise InputError(
                f"{path}: row(s) {[int(b) + 2 for b in bad[:5]]} have no numeric position; fix or remove them."
            )
        g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=src_crs).to_crs(crs)
    else:
        g = gpd.read_file(path).to_crs(crs)
        g["geometry"] = g.geometry.representative_point()
    g["x"] = g.geometry.x.round(1)
    g["y"] = g.geometry.y.round(1)
    idc = next((c for c in ("site_id", "id", "name") if c in g.columns), None)
    g["site_id"] = g[idc].astype(str) if idc else [f"S{i + 1:04d}" for i in range(len(g))]
    for c in ("source", "road_class", "road_name"):
        if c not in g.columns:
            g[c] = "given" if c == "source" else ""
    return g[["site_id", "x", "y", "source", "road_class", "road_name", "geometry"]].reset_index(drop=True)


def read_roads(path: Path, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """Road lines (any vector file) in ``crs``, with ``road_class`` ("unclassified" when the file has none)."""
    if not path.exists():
        raise InputError(f"roads file {path} does not exist; fix [anpr] roads.")
    r = gpd.read_file(path).to_crs(crs)
    if "road_class" not in r.columns:
        r["road_class"] = "unclassified"
    return r


def read_outline(path: Path, crs: str = DEFAULT_CRS) -> BaseGeometry:
    """The union of a polygon file's features in ``crs`` (e.g. the borough outline for ANPR entry points)."""
    return shapely.union_all(gpd.read_file(path).to_crs(crs).geometry.to_numpy())


# --------------------------------------------------------------------------- steps of the report
def _period_filter(incidents: pd.DataFrame, cov: CoverageConfig) -> tuple[pd.DataFrame, tuple[str, str], list[str]]:
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
    sol = solve_mclp(
        A,
        demand.w,
        kk,
        seen=seen,
        method=sit.solver,
        time_limit_s=sit.time_limit_s,
        spopt_max_terms=sit.spopt_max_terms,
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
    )
    sc = set_cover(A, demand.w, sit.target_share, total=total, time_limit_s=sit.time_limit_s, seen=seen)
    return _Siting(sol, curve, sc, _proposed_sites(cand, sol, total, ctype, rng_m), kk, tuple(notes))


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
) -> tuple[AnprResult | None, list[str]]:
    """ANPR entry points and readers, when there are road lines; notes either way."""
    roads = roads if roads is not None else area.roads
    if roads is None or not len(roads):
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
    )
    return res, [f"ANPR: {n}" for n in res.notes] + [
        "ANPR: flows along the road network are not modelled; entry-point weights stand in for them"
    ]


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
    harm_weights: Mapping[str, float] | None = None,
    inventory_label: str = "",
    k: int | None = None,
    anpr_k: int | None = None,
    mobile_zones: gpd.GeoDataFrame | None = None,
    mobile_start=None,
) -> CoverageResult:
    """The coverage report (see the module docstring).

    ``incidents`` follows the Incidents contract (at least ``x, y, crime_type``
    and ``harm`` or ``harm_weights``; ``start`` for period filtering), in the
    grid's CRS like the study area, the cameras and ``hotspot_areas``.
    ``harm_per_cell`` (nrows, ncols) on ``grid`` is recomputed from the
    incidents when None or when ``coverage`` narrows the period or crime
    types. ``candidates`` are given camera sites (else generated around the
    high-harm cells); ``anpr_roads`` / ``anpr_outline`` replace the study
    area's roads and boundary for ANPR entry points; ``k`` / ``anpr_k``
    override the number of new cameras / readers.
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
    notes.append(_obstruction_note(obstruction))
    live = inventory.live(cams.coverage_types)
    inc, period, pnotes = _period_filter(incidents, cov)
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
        hotspot_areas,
        obstruction,
        cov,
        cams.mount_height_m,
        cams.target_height_m,
        cams.position_samples,
    )
    viewsheds = viewshed_polygons(live, obstruction, cams.mount_height_m, cams.target_height_m)
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
    anpr_res, anotes = _anpr(inc, x, y, harm, study_area, inventory, anpr_cfg, anpr_roads, anpr_outline, anpr_k)
    notes += anotes
    mobile = None
    if mobile_zones is not None and len(mobile_zones):
        mobile = mobile_deployments(mobile_zones, live, start=mobile_start, x=x, y=y, harm=harm, crs=grid.crs)
    pcell = cov.public_cell_m or max(250.0, grid.cell_size)
    pc = public_cells(x, y, study_area.boundary, pcell, cov.public_min_count, crs=grid.crs)
    return CoverageResult(
        inventory,
        label,
        stats,
        viewsheds,
        cand,
        sited.mclp,
        sited.proposed,
        sited.curve,
        sited.set_cover,
        anpr_res,
        mobile,
        pc,
        study_area.boundary,
        period,
        sited.k,
        cov.public_min_count,
        tuple(notes),
    )


__all__ = ["CoverageResult", "coverage_report", "read_outline", "read_roads", "read_sites"]
