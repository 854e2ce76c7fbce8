"""Stage entry point: KDE, Gi*, hotspot areas and ward rates for each crime type.

``run_surfaces(cfg, incidents, study_area, grid) -> SurfacesResult``

Parameters
    cfg : hotspots.config.Config
        Reads ``[density]`` (:class:`~hotspots.analysis.density.DensityConfig`),
        ``[gistar]`` (:class:`~hotspots.analysis.gistar.GiStarConfig`) and
        ``[hotspots]`` (:class:`~hotspots.analysis.hotspot_areas.HotspotsConfig`),
        ``[analysis] crime_types`` (empty = every type present), ``[harm] scheme``
        and ``[project] seed``.
    incidents : GeoDataFrame
        The Incidents contract (EPSG:27700), ``harm`` already set under the
        configured scheme (as ingest does).
    study_area : hotspots.model.StudyArea
        Wards with ``population`` and ``households`` (for rates).
    grid : hotspots.geo.grid.Grid
        The analysis grid.

For every analysed crime type it computes the KDE surface of counts and (if
``[density] harm``) of harm, Gi* on cell counts or harm, hotspot areas ranked
by harm, and ward rates (burglary per 1,000 households, others per 1,000
residents). ``SurfacesResult.write(out_dir)`` writes ``kde_<type>.tif``,
``kde_harm_<type>.tif``, ``gistar_<type>.tif`` (z) GeoTIFFs and a GeoPackage
``surfaces.gpkg`` with layers ``gistar_<type>``, ``hotspots_<type>`` and
``ward_rates_<type>`` (ward polygons with rates), all EPSG:27700.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


from ..config import section
from .density import DensityConfig, DensityResult, hotspot_kde
from .gistar import GiStarConfig, GiStarResult, gistar_grid
from .hotspot_areas import HotspotAreas, HotspotsConfig, hotspot_areas
from .rates import RatesResult, ward_rates


@dataclass(frozen=True, eq=False)
class SurfacesResult:
    """Per crime type: ``kde`` (counts), ``kde_harm``, ``gistar``, ``areas``, ``rates`` (dicts keyed by type)."""

    kde: dict[str, DensityResult]
    kde_harm: dict[str, DensityResult]
    gistar: dict[str, GiStarResult]
    areas: dict[str, HotspotAreas]
    rates: dict[str, RatesResult]
    harm_scheme: str
    grid: object
    wards: object = None
    settings: dict = field(default_factory=dict)

    @property
    def crime_types(self) -> list[str]:
        return list(self.kde)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write GeoTIFFs and ``surfaces.gpkg`` into ``out_dir``; returns the paths written."""
        import geopandas as gpd

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        for t, d in self.kde.items():
            files.append(d.to_geotiff(out / f"kde_{t}.tif"))
        for t, d in self.kde_harm.items():
            files.append(d.to_geotiff(out / f"kde_harm_{t}.tif"))
        for t, g in self.gistar.items():
            files.append(g.to_geotiff(out / f"gistar_{t}.tif", "z"))
        gpkg = out / "surfaces.gpkg"
        if gpkg.exists():
            gpkg.unlink()
        for t, g in self.gistar.items():
            df = g.to_frame()
            df["harm_scheme"] = self.harm_scheme
            df.to_file(gpkg, layer=f"gistar_{t}", driver="GPKG")
        for t, a in self.areas.items():
            if len(a.frame):
                a.to_gpkg(gpkg, layer=f"hotspots_{t}")
        if self.wards is not None:
            for t, r in self.rates.items():
                tab = r.table.rename(columns={"code": "ward_code", "name": "ward_name"})
                w = self.wards[["ward_code", "geometry"]].merge(tab, on="ward_code", how="right")
                w = gpd.GeoDataFrame(w, geometry="geometry", crs=self.grid.crs)
                w["borough_rate"] = r.borough["rate"]
                w["denominator_kind"] = r.denominator_kind
                w.to_file(gpkg, layer=f"ward_rates_{t}", driver="GPKG")
        files.append(gpkg)
        meta = out / "surfaces.json"
        meta.write_text(json.dumps({"harm_scheme": self.harm_scheme, "settings": self.settings,
                                    "kde": {t: d.metadata() for t, d in self.kde.items()},
                                    "gistar_cutoffs": {t: g.cutoffs for t, g in self.gistar.items()},
                                    "hotspot_counts": {t: int(len(a.frame)) for t, a in self.areas.items()}},
                                   indent=2, default=str))
        files.append(meta)
        return files


def run_surfaces(cfg, incidents, study_area, grid, crime_types=None) -> SurfacesResult:
    """Run the hotspot-surface stage (see the module docstring for inputs and outputs).

    ``crime_types`` overrides ``[analysis] crime_types`` (empty/None = every type present).
    """
    dcfg: DensityConfig = section(cfg, "density", DensityConfig)
    gcfg: GiStarConfig = section(cfg, "gistar", GiStarConfig)
    hcfg: HotspotsConfig = section(cfg, "hotspots", HotspotsConfig)
    scheme = cfg.harm.scheme
    seed = cfg.project.seed if gcfg.seed < 0 else gcfg.seed
    types = list(crime_types or cfg.analysis.crime_types or sorted(incidents["crime_type"].unique()))
    wards = getattr(study_area, "wards", None)
    kde, kde_harm, gis, areas, rates = {}, {}, {}, {}, {}
    for t in types:
        sub = incidents[incidents["crime_type"] == t]
        if len(sub) < 3:
            continue
        radius = dcfg.radius_m if dcfg.radius_m > 0 else None
        kde[t] = hotspot_kde(sub, grid=grid, radius_m=radius, kernel=dcfg.kernel, label=f"{t} density",
                             min_radius_m=dcfg.min_radius_m, max_radius_m=dcfg.max_radius_m)
        if dcfg.harm:
            kde_harm[t] = hotspot_kde(sub, grid=grid, radius_m=kde[t].radius_m, kernel=dcfg.kernel,
                                      weights="harm", label=f"{t} harm density", harm_scheme=scheme)
        x, y = sub["x"].to_numpy(float), sub["y"].to_numpy(float)
        vals = grid.counts(x, y, sub["harm"].to_numpy(float) if gcfg.value == "harm" else None)
        gis[t] = gistar_grid(vals, grid, gcfg.band_m, gcfg.permutations, seed, gcfg.correction, gcfg.p_value,
                             label=t, harm_scheme=scheme if gcfg.value == "harm" else "")
        if hcfg.method == "gistar":
            hot = gis[t].to_array(gis[t].hot(hcfg.confidence), False).astype(bool)
            crit = f"Gi* hot spot at >= {hcfg.confidence}% confidence ({gcfg.correction} corrected)"
        else:
            hot = kde[t].percentile_mask(hcfg.kde_percentile)
            crit = f"KDE >= {hcfg.kde_percentile:g}th percentile of in-area cells"
        areas[t] = hotspot_areas(sub, grid, hot, wards=wards, harm_scheme=scheme, method=hcfg.method,
                                 criterion=crit, min_cells=hcfg.min_cells, top_locations=hcfg.top_locations,
                                 profile=hcfg.profile, label=t)
        if wards is not None and len(wards):
            years = cfg.analysis.lookback_days / 365.25
            den = "households" if t.startswith("burglary") else "population"
            if den in wards.columns and wards[den].notna().any():
                rates[t] = ward_rates(sub, wards, denominator=den, period_years=years, assign="column"
                                      if "ward_code" in sub.columns and sub["ward_code"].notna().all() else "spatial",
                                      label=t)
    settings = {"density": vars(dcfg), "gistar": vars(gcfg), "hotspots": vars(hcfg), "seed": seed}
    return SurfacesResult(kde=kde, kde_harm=kde_harm, gistar=gis, areas=areas, rates=rates, harm_scheme=scheme,
                          grid=grid, wards=wards, settings=settings)
