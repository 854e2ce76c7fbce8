"""Coverage stage entry: which harm the cameras see, the gaps, new CCTV and ANPR sites.

:func:`run_coverage` reads the config sections ``[cameras]``, ``[coverage]``,
``[siting]`` and ``[anpr]`` and returns a :class:`CoverageResult`, whose
``write(out_dir)`` writes the coverage report for the CCTV project board:

=========================  ==========================================================
``coverage_by_type.csv``   incidents and harm seen by live cameras, per crime type
``gaps.csv`` / ``.gpkg``   hotspot areas and high-harm cells outside every viewshed
``proposed_sites.csv``     k new camera sites with the harm each adds (MCLP)
``marginal_gain.csv/png``  harm covered with 1..k new cameras
``set_cover.csv``          fewest new cameras to see [siting] target_share of harm
``anpr_entry_points.csv``  borough entry points, weights, coverage, new readers
``cameras_rejected.csv``   inventory rows not used, with reasons
``coverage.gpkg``          viewsheds, gaps, proposed sites, entry points (EPSG:27700)
``summary.json``           figures, solver status, notes, which inventory was used
``public/public_map.html`` aggregated public-consultation map (no incident detail)
=========================  ==========================================================

All geometry is EPSG:27700 (metres).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._csvsafe import excel_safe
from ..config import section
from ..errors import InputError
from .anpr import AnprConfig, AnprResult, run_anpr
from .cameras import CameraInventory, CamerasConfig, make_cameras, read_inventory, restrict_to_area
from .coverage import CoverageConfig, CoverageStats, compute_coverage
from .mobile import MobilePlan, mobile_deployments
from .public_map import public_cells, write_public_map
from .siting import (MCLPSolution, SetCoverSolution, SitingConfig, coverage_matrix, generate_candidates,
                     marginal_curve, plot_marginal_curve, set_cover, solve_mclp)
from .viewshed import Obstruction, viewshed_polygons

BNG = "EPSG:27700"


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Everything the coverage report shows (frames in EPSG:27700)."""

    inventory: CameraInventory
    inventory_label: str
    stats: CoverageStats
    viewsheds: object
    candidates: object
    mclp: MCLPSolution
    proposed_sites: object
    curve: pd.DataFrame
    set_cover: SetCoverSolution
    anpr: AnprResult | None
    mobile: MobilePlan | None
    public_cells: object
    boundary: object = field(repr=False, default=None)
    period: tuple[str, str] = ("", "")
    k: int = 0
    public_min_count: int = 5
    notes: tuple[str, ...] = ()

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        return self.stats.by_type

    def summary(self) -> dict:
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
            "siting": {"k": self.k, "candidates": int(len(self.candidates)), "method": self.mclp.method,
                       "status": self.mclp.status, "solve_seconds": round(self.mclp.seconds, 3),
                       "demand_harm_covered_existing": self.mclp.fixed_covered,
                       "demand_harm_covered_with_new": self.mclp.covered, "bound": self.mclp.bound,
                       "gap": self.mclp.gap,
                       "share_with_new": float(c["share_covered"].iloc[-1]) if len(c) else 0.0},
            "set_cover": self.set_cover.to_frame().iloc[0].to_dict(),
            "anpr": (self.anpr.summary().iloc[0].to_dict() if self.anpr is not None else None),
            "notes": list(self.notes),
        }
        return json.loads(json.dumps(out, default=lambda o: o.item() if hasattr(o, "item") else str(o)))

    def map_layers(self) -> dict:
        """GeoDataFrames (EPSG:27700) for the renderer: viewsheds, gaps, proposed sites with expected covered
        harm, ANPR entry points and readers, mobile spots."""
        layers = {"viewsheds": self.viewsheds, "gaps": self.stats.gaps, "proposed_sites": self.proposed_sites,
                  "cameras": self.inventory.cameras}
        if self.anpr is not None:
            layers["anpr_entry_points"] = self.anpr.entries
            layers["anpr_readers"] = self.anpr.readers
        if self.mobile is not None:
            layers["mobile_spots"] = self.mobile.spots
        return layers

    # ------------------------------------------------------------------ output
    def write(self, out_dir) -> list[Path]:
        """Write the coverage report into ``out_dir`` (created); returns the files written."""
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
        files.append(plot_marginal_curve(self.curve, out / "marginal_gain.png",
                                         title=f"Harm covered with 1..{self.k} new cameras"))
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
        period = f"{self.period[0]} to {self.period[1]}" if self.period[0] else ""
        files.append(write_public_map(out / "public" / "public_map.html", self.public_cells,
                                      self.proposed_sites, self.boundary, self.public_min_count, period=period))
        return files


# --------------------------------------------------------------------------- helpers
def _period_filter(incidents, cov: CoverageConfig):
    inc = incidents
    notes = []
    start = end = ""
    if "start" in inc.columns and len(inc):
        s = inc["start"]
        tz = getattr(s.dt, "tz", None)
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


def _read_sites(path: Path):
    import geopandas as gpd

    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
        cols = {c.lower(): c for c in df.columns}
        if "x" in cols and "y" in cols:
            x, y = pd.to_numeric(df[cols["x"]], errors="coerce"), pd.to_numeric(df[cols["y"]], errors="coerce")
            crs = BNG
        elif "lon" in cols and "lat" in cols:
            x, y = pd.to_numeric(df[cols["lon"]], errors="coerce"), pd.to_numeric(df[cols["lat"]], errors="coerce")
            crs = "EPSG:4326"
        else:
            raise InputError(f"{path}: candidate sites need x,y (EPSG:27700) or lon,lat columns.")
        bad = np.nonzero((~np.isfinite(x.to_numpy(float))) | (~np.isfinite(y.to_numpy(float))))[0]
        if len(bad):
            raise InputError(f"{path}: row(s) {[int(b) + 2 for b in bad[:5]]} have no numeric position; fix or "
                             "remove them.")
        g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=crs).to_crs(BNG)
    else:
        g = gpd.read_file(path).to_crs(BNG)
        g["geometry"] = g.geometry.representative_point()
    g["x"] = g.geometry.x.round(1)
    g["y"] = g.geometry.y.round(1)
    idc = next((c for c in ("site_id", "id", "name") if c in g.columns), None)
    g["site_id"] = g[idc].astype(str) if idc else [f"S{i + 1:04d}" for i in range(len(g))]
    for c in ("source", "road_class", "road_name"):
        if c not in g.columns:
            g[c] = "given" if c == "source" else ""
    return g[["site_id", "x", "y", "source", "road_class", "road_name", "geometry"]].reset_index(drop=True)


def _read_roads(path: Path):
    import geopandas as gpd

    if not path.exists():
        raise InputError(f"roads file {path} does not exist; fix [anpr] roads.")
    r = gpd.read_file(path).to_crs(BNG)
    if "road_class" not in r.columns:
        r["road_class"] = "unclassified"
    return r


def harm_of(incidents, cfg) -> np.ndarray:
    if "harm" in incidents.columns:
        return incidents["harm"].to_numpy(float)
    w = cfg.harm_weights()
    return incidents["crime_type"].map(w).fillna(1.0).to_numpy(float)


# --------------------------------------------------------------------------- stage
def run_coverage(cfg, incidents, study_area, grid, harm_per_cell=None, hotspot_areas=None, *,
                 inventory: CameraInventory | None = None, k: int | None = None, anpr_k: int | None = None,
                 mobile_zones=None, mobile_start=None, obstruction: Obstruction | None = None) -> CoverageResult:
    """The coverage stage (see module docstring). ``incidents`` follows the Incidents contract
    (at least ``x, y, crime_type`` and ``harm`` or a harm scheme in ``cfg``; ``start`` for period
    filtering). ``harm_per_cell`` (nrows, ncols) on ``grid``; recomputed from the incidents when
    None or when ``[coverage]`` narrows the period or crime types."""
    import shapely

    cams_cfg = section(cfg, "cameras", CamerasConfig)
    cov_cfg = section(cfg, "coverage", CoverageConfig)
    sit_cfg = section(cfg, "siting", SitingConfig)
    anpr_cfg = section(cfg, "anpr", AnprConfig)
    k = sit_cfg.k if k is None else int(k)
    notes: list[str] = []
    # ---------------- inventory
    if inventory is None:
        if not cams_cfg.inventory:
            raise InputError(f"{cfg.source_file}: no camera inventory; set [cameras] inventory = \"path/to/"
                             "cameras.csv\" (CSV with camera_id,type,x,y,... or a GeoJSON of points).")
        inventory = read_inventory(cfg.path(cams_cfg.inventory), cams_cfg)
    if cams_cfg.max_distance_from_area_m >= 0:
        inventory = restrict_to_area(inventory, study_area.boundary, cams_cfg.max_distance_from_area_m)
    label = cams_cfg.label or Path(str(inventory.source)).name  # a file name, never a local path
    notes.append(f"camera inventory used: {label}")
    if len(inventory.rejected):
        notes.append(f"{len(inventory.rejected)} inventory row(s) not used (invalid, or farther than "
                     "[cameras] max_distance_from_area_m from the study area): reasons in cameras_rejected.csv")
    if obstruction is None and cams_cfg.obstruction:
        obstruction = Obstruction.from_geotiff(cfg.path(cams_cfg.obstruction))
    notes.append("viewsheds clipped by line of sight over " + (obstruction.source or "the obstruction raster")
                 if obstruction is not None else "no obstruction raster: viewsheds are geometric sectors "
                 "(flat ground, nothing blocks the view)")
    mh, th = cams_cfg.mount_height_m, cams_cfg.target_height_m
    live = inventory.live(cams_cfg.coverage_types)
    # ---------------- period and harm
    inc, period, pnotes = _period_filter(incidents, cov_cfg)
    notes += pnotes
    x = inc["x"].to_numpy(float)
    y = inc["y"].to_numpy(float)
    harm = harm_of(inc, cfg)
    if harm_per_cell is None or cov_cfg.period_start or cov_cfg.period_end or cov_cfg.crime_types:
        if harm_per_cell is not None:
            notes.append("harm per cell recomputed from the incidents of the chosen period / crime types")
        harm_per_cell = grid.counts(x, y, harm)
    hpc = np.where(grid.mask, np.asarray(harm_per_cell, float), 0.0)
    # ---------------- coverage
    stats = compute_coverage(live, x, y, inc["crime_type"].to_numpy(object), harm, grid, hpc, hotspot_areas,
                             obstruction, cov_cfg, mh, th)
    viewsheds = viewshed_polygons(live, obstruction, mh, th)
    # ---------------- siting
    if sit_cfg.demand_cell_m > 0:
        from ..geo.grid import Grid

        dgrid = Grid.from_boundary(study_area.boundary, min(sit_cfg.demand_cell_m, grid.cell_size))
        dh = np.where(dgrid.mask, dgrid.counts(x, y, harm), 0.0)
        notes.append(f"siting demand: incident harm on {dgrid.cell_size:g} m cells")
    else:
        dgrid, dh = grid, hpc
        notes.append(f"siting demand: harm per analysis-grid cell ({grid.cell_size:g} m)")
    rows, cols = np.nonzero(dgrid.mask & (dh > 0))
    xc, yc = dgrid.centres()
    dx, dy, w = xc[rows, cols], yc[rows, cols], dh[rows, cols]
    if sit_cfg.candidates:
        cand = _read_sites(cfg.path(sit_cfg.candidates))
        notes.append(f"candidate sites from {sit_cfg.candidates}")
    else:
        pos = hpc[hpc > 0]
        thr = float(np.quantile(pos, cov_cfg.high_harm_quantile)) if len(pos) else np.inf
        rr, cc = np.nonzero(grid.mask & (hpc >= thr) & (hpc > 0))
        cs = grid.cell_size
        focus = list(shapely.box(grid.xmin + cc * cs, grid.ymax - (rr + 1) * cs, grid.xmin + (cc + 1) * cs,
                                 grid.ymax - rr * cs))
        if hotspot_areas is not None and len(hotspot_areas):
            focus += list(hotspot_areas.to_crs(BNG).geometry)
        roads = getattr(study_area, "roads", None) if sit_cfg.candidate_source != "lattice" else None
        if sit_cfg.candidate_source == "roads" and roads is None:
            raise InputError(f"{cfg.source_file}: [siting] candidate_source = \"roads\" but the study area has no "
                             "roads; set [study_area] roads or use candidate_source = \"lattice\".")
        cand = generate_candidates(shapely.union_all(focus) if focus else study_area.boundary, roads,
                                   study_area.boundary, sit_cfg.candidate_spacing_m, sit_cfg.candidate_buffer_m,
                                   sit_cfg.max_candidates)
        notes.append(f"{len(cand)} candidate sites generated {'on roads' if roads is not None else 'on a lattice'}"
                     f" every {sit_cfg.candidate_spacing_m:g} m within {sit_cfg.candidate_buffer_m:g} m of the "
                     f"high-harm cells{' and hotspot areas' if hotspot_areas is not None else ''}")
    ctype = sit_cfg.candidate_type
    fov = sit_cfg.candidate_fov_deg or 360.0
    rng_m = sit_cfg.candidate_range_m or cams_cfg.default_range(ctype)
    cand_cams = make_cameras(cand["x"], cand["y"], ctype, rng_m, 0.0, fov, ids=cand["site_id"], config=cams_cfg)
    notes.append(f"new cameras modelled as {ctype} with {rng_m:g} m range, {fov:g} deg view; a cell counts as "
                 "covered when its centre is seen")
    A = coverage_matrix(cand_cams, dx, dy, obstruction, mh, th)
    fixed_cams = live
    if sit_cfg.include_planned:
        pl = inventory.cameras[(inventory.cameras["status"] == "planned")
                               & inventory.cameras["type"].isin(list(cams_cfg.coverage_types))]
        fixed_cams = pd.concat([live, pl], ignore_index=True)
        notes.append(f"siting: {len(pl)} planned camera(s) counted as existing coverage")
    fixed_A = coverage_matrix(fixed_cams, dx, dy, obstruction, mh, th) if len(fixed_cams) else None
    fixed = (np.asarray(fixed_A.sum(axis=1)).ravel() > 0) if fixed_A is not None else np.zeros(len(w), bool)
    total = float(w.sum())
    kk = max(1, min(k, len(cand))) if len(cand) else 0
    if kk == 0:
        raise InputError("no candidate camera sites: give [siting] candidates or roads in [study_area] roads.")
    sol = solve_mclp(A, w, kk, fixed=fixed, fixed_A=fixed_A, method=sit_cfg.solver, time_limit_s=sit_cfg.time_limit_s,
                     spopt_max_terms=sit_cfg.spopt_max_terms)
    curve = marginal_curve(A, w, kk, fixed, fixed_A, sit_cfg.solver, sit_cfg.curve, sit_cfg.time_limit_s,
                           sit_cfg.spopt_max_terms, total=total)
    sc = set_cover(A, w, sit_cfg.target_share, fixed, total=total, time_limit_s=sit_cfg.time_limit_s)
    ps = cand.iloc[list(sol.chosen)].copy().reset_index(drop=True)
    ps.insert(0, "rank", np.arange(1, len(ps) + 1))
    ps["expected_harm_covered"] = np.round(sol.gains, 3)
    ps["cumulative_harm_covered"] = np.round(sol.fixed_covered + np.cumsum(sol.gains), 3)
    ps["cumulative_share"] = np.round(ps["cumulative_harm_covered"] / total, 4) if total > 0 else 0.0
    ps["camera_type"] = ctype
    ps["range_m"] = rng_m
    ps["method"] = sol.method
    import geopandas as gpd

    ps = gpd.GeoDataFrame(ps, geometry="geometry", crs=BNG)
    # ---------------- ANPR
    anpr_res = None
    roads = _read_roads(cfg.path(anpr_cfg.roads)) if anpr_cfg.roads else getattr(study_area, "roads", None)
    if roads is not None and len(roads):
        boundary = study_area.boundary
        if anpr_cfg.boundary:
            b = gpd.read_file(cfg.path(anpr_cfg.boundary)).to_crs(BNG)
            boundary = shapely.union_all(b.geometry.to_numpy())
        sel = inc["crime_type"].isin(list(anpr_cfg.crime_types)).to_numpy()
        anpr_res = run_anpr(boundary, roads, inventory.cameras, anpr_cfg, x[sel], y[sel], harm[sel], k=anpr_k)
        notes += [f"ANPR: {n}" for n in anpr_res.notes]
        notes.append("ANPR: flows along the road network are not modelled; entry-point weights stand in for them")
    else:
        notes.append("ANPR siting skipped: no road lines (set [study_area] roads or [anpr] roads)")
    # ---------------- mobile cameras
    mobile = None
    if mobile_zones is not None and len(mobile_zones):
        mobile = mobile_deployments(mobile_zones, live, start=mobile_start, x=x, y=y, harm=harm)
    # ---------------- public map cells
    pcell = cov_cfg.public_cell_m or max(250.0, grid.cell_size)
    pc = public_cells(x, y, study_area.boundary, pcell, cov_cfg.public_min_count)
    return CoverageResult(inventory, label, stats, viewsheds, cand, sol, ps, curve, sc, anpr_res, mobile, pc,
                          study_area.boundary, period, kk, cov_cfg.public_min_count, tuple(notes))


def replace_k(cfg, k: int):
    """A copy of ``cfg`` with ``[siting] k`` set (used by the CLI)."""
    from ..config import with_overrides

    return with_overrides(cfg, siting={"k": int(k)})


__all__ = ["CoverageResult", "run_coverage", "CamerasConfig", "CoverageConfig", "SitingConfig", "AnprConfig"]
