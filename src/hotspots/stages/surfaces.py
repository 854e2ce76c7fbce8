"""Stage ``surfaces``: KDE, Gi*, hotspot areas and ward rates for each crime type.

Reads ``[density]``, ``[gistar]``, ``[hotspots]``, ``[analysis] crime_types``
(empty = every type present), ``[harm] scheme`` and ``[project] seed``, and
calls the library verbs with those settings as explicit parameters on the
incidents of the analysis window. For every analysed crime type (with at least
3 incidents) it computes the KDE surface of counts and (if ``[density] harm``)
of harm, Gi* on cell counts or harm, hotspot areas ranked by harm, and ward
rates (burglary per 1,000 households, others per 1,000 residents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import geopandas as gpd

from ..analysis.density import hotspot_kde
from ..analysis.gistar import gistar_grid
from ..analysis.hotspot_areas import hotspot_areas
from ..analysis.rates import ward_rates
from ..config import Config
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .registry import Stage
from .results import RunResults, SurfacesResult

MIN_INCIDENTS = 3


def surfaces(cfg: Config, incidents: gpd.GeoDataFrame, area: StudyArea, grid: Grid,
             crime_types: Sequence[str] | None = None) -> SurfacesResult:
    """The surfaces of ``incidents`` (usually the analysis window) with the settings of ``cfg``.

    ``crime_types`` overrides ``[analysis] crime_types`` (empty/None = every type present).
    """
    dcfg, gcfg, hcfg = cfg.density, cfg.gistar, cfg.hotspots
    scheme = cfg.harm.scheme
    seed = cfg.project.seed if gcfg.seed < 0 else gcfg.seed
    types = list(crime_types or cfg.analysis.crime_types or sorted(incidents["crime_type"].unique()))
    wards = area.wards
    kde, kde_harm, gis, areas, rates = {}, {}, {}, {}, {}
    for t in types:
        sub = incidents[incidents["crime_type"] == t]
        if len(sub) < MIN_INCIDENTS:
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
        if len(wards):
            years = cfg.analysis.lookback_days / 365.25
            den = "households" if t.startswith("burglary") else "population"
            if den in wards.columns and wards[den].notna().any():
                assign = "column" if "ward_code" in sub.columns and sub["ward_code"].notna().all() else "spatial"
                rates[t] = ward_rates(sub, wards, denominator=den, period_years=years, assign=assign, label=t)
    settings = {"density": asdict(dcfg), "gistar": asdict(gcfg), "hotspots": asdict(hcfg), "seed": seed}
    return SurfacesResult(kde=kde, kde_harm=kde_harm, gistar=gis, areas=areas, rates=rates, harm_scheme=scheme,
                          grid=grid, wards=wards, settings=settings)


def run(res: RunResults) -> SurfacesResult:
    """The surfaces of the incidents in the analysis window (``[analysis] lookback_days``)."""
    return surfaces(res.cfg, res.recent(), res.area, res.grid)


STAGE: Stage[SurfacesResult] = Stage(name="surfaces", title="surfaces",
                                     sections=("density", "gistar", "hotspots", "analysis", "harm", "project"),
                                     depends_on=(), run=run)
