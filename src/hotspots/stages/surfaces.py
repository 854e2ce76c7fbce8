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
from dataclasses import asdict, dataclass

import geopandas as gpd

from ..analysis.density import DensityResult, hotspot_kde
from ..analysis.gistar import GiStarResult, gistar_grid
from ..analysis.hotspot_areas import HotspotAreas, hotspot_areas
from ..analysis.rates import RatesResult, ward_rates
from ..config import Config
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .registry import Stage
from .results import RunResults, SurfacesResult

MIN_INCIDENTS = 3


@dataclass(frozen=True, eq=False)
class _TypeSurfaces:
    """The surfaces of one crime type."""

    kde: DensityResult
    kde_harm: DensityResult | None
    gistar: GiStarResult
    areas: HotspotAreas
    rates: RatesResult | None


def _one_type(
    cfg: Config,
    sub: gpd.GeoDataFrame,
    t: str,
    wards: gpd.GeoDataFrame,
    grid: Grid,
    seed: int,
    period_days: float | None = None,
) -> _TypeSurfaces:
    """KDE (counts and harm), Gi*, hotspot areas and ward rates of the incidents ``sub`` of crime type ``t``."""
    dcfg, gcfg, hcfg = cfg.density, cfg.gistar, cfg.hotspots
    scheme = cfg.harm.scheme
    radius = dcfg.radius_m if dcfg.radius_m > 0 else None
    kde = hotspot_kde(
        sub,
        grid=grid,
        radius_m=radius,
        kernel=dcfg.kernel,
        label=f"{t} density",
        min_radius_m=dcfg.min_radius_m,
        max_radius_m=dcfg.max_radius_m,
    )
    kde_harm = (
        hotspot_kde(
            sub,
            grid=grid,
            radius_m=kde.radius_m,
            kernel=dcfg.kernel,
            weights="harm",
            label=f"{t} harm density",
            harm_scheme=scheme,
        )
        if dcfg.harm
        else None
    )
    x, y = sub["x"].to_numpy(float), sub["y"].to_numpy(float)
    vals = grid.counts(x, y, sub["harm"].to_numpy(float) if gcfg.value == "harm" else None)
    gi = gistar_grid(
        vals,
        grid,
        gcfg.band_m,
        gcfg.permutations,
        seed,
        gcfg.correction,
        gcfg.p_value,
        label=t,
        harm_scheme=scheme if gcfg.value == "harm" else "",
    )
    if hcfg.method == "gistar":
        hot = gi.to_array(gi.hot(hcfg.confidence), False).astype(bool)
        crit = f"Gi* hot spot at >= {hcfg.confidence}% confidence ({gcfg.correction} corrected)"
    else:
        hot = kde.percentile_mask(hcfg.kde_percentile)
        crit = f"KDE >= {hcfg.kde_percentile:g}th percentile of in-area cells"
    areas = hotspot_areas(
        sub,
        grid,
        hot,
        wards=wards,
        harm_scheme=scheme,
        method=hcfg.method,
        criterion=crit,
        min_cells=hcfg.min_cells,
        top_locations=hcfg.top_locations,
        profile=hcfg.profile,
        label=t,
    )
    return _TypeSurfaces(kde, kde_harm, gi, areas, _rates(cfg, sub, t, wards, period_days))


def _rates(
    cfg: Config, sub: gpd.GeoDataFrame, t: str, wards: gpd.GeoDataFrame, period_days: float | None
) -> RatesResult | None:
    """Ward rates per year over ``period_days`` (default ``[analysis] lookback_days``): burglary per 1,000
    households, others per 1,000 residents (None without denominators)."""
    den = "households" if t.startswith("burglary") else "population"
    if not len(wards) or den not in wards.columns or not wards[den].notna().any():
        return None
    assign = "column" if "ward_code" in sub.columns and sub["ward_code"].notna().all() else "spatial"
    return ward_rates(
        sub,
        wards,
        denominator=den,
        period_years=(period_days or cfg.analysis.lookback_days) / 365.25,
        assign=assign,
        label=t,
    )


def surfaces(
    cfg: Config,
    incidents: gpd.GeoDataFrame,
    area: StudyArea,
    grid: Grid,
    crime_types: Sequence[str] | None = None,
    period_days: float | None = None,
) -> SurfacesResult:
    """The surfaces of ``incidents`` (usually the analysis window) with the settings of ``cfg``.

    ``crime_types`` overrides ``[analysis] crime_types`` (empty/None = every type present);
    types with fewer than :data:`MIN_INCIDENTS` incidents are left out. ``period_days``
    is the length of the window the incidents cover, for yearly rates (default
    ``[analysis] lookback_days``; the run passes its analysis window's true length).
    """
    seed = cfg.project.seed if cfg.gistar.seed < 0 else cfg.gistar.seed
    types = list(crime_types or cfg.analysis.crime_types or sorted(incidents["crime_type"].unique()))
    per_type = {
        t: _one_type(cfg, sub, t, area.wards, grid, seed, period_days)
        for t in types
        if len(sub := incidents[incidents["crime_type"] == t]) >= MIN_INCIDENTS
    }
    settings = {
        "density": asdict(cfg.density),
        "gistar": asdict(cfg.gistar),
        "hotspots": asdict(cfg.hotspots),
        "seed": seed,
    }
    return SurfacesResult(
        kde={t: s.kde for t, s in per_type.items()},
        kde_harm={t: s.kde_harm for t, s in per_type.items() if s.kde_harm is not None},
        gistar={t: s.gistar for t, s in per_type.items()},
        areas={t: s.areas for t, s in per_type.items()},
        rates={t: s.rates for t, s in per_type.items() if s.rates is not None},
        harm_scheme=cfg.harm.scheme,
        grid=grid,
        wards=area.wards,
        settings=settings,
    )


def run(res: RunResults) -> SurfacesResult:
    """The surfaces of the incidents in the analysis window (see :class:`~hotspots.stages.inputs.AnalysisWindow`)."""
    return surfaces(res.cfg, res.recent(), res.area, res.grid, period_days=res.inputs.window.days)


STAGE: Stage[SurfacesResult] = Stage(
    name="surfaces",
    title="surfaces",
    sections=("density", "gistar", "hotspots", "analysis", "harm", "project"),
    depends_on=(),
    run=run,
)
