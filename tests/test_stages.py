"""The stage registry: its rules, and the seam between stages and library.

The pack the registry builds (``pipeline.run``) must equal, table by table,
raster by raster and layer by layer, a pack assembled from the library's verbs
called directly with the config's settings as explicit parameters: the stages
only translate settings, they add no analysis of their own.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import DEMO_DATE, build_demo_pack, fast_config
from packdiff import compare_packs


def test_registry_knows_every_stage_and_its_sections():
    from hotspots.config import SECTIONS
    from hotspots.pipeline import PIPELINE_STAGES
    from hotspots.stages import ANALYSIS_STAGES, REGISTRY, RunResults

    assert [s.name for s in PIPELINE_STAGES] == [
        "ward_table",
        "surfaces",
        "trends",
        "nearrepeat",
        "coverage",
        "forecast",
        "concentration",
        "dosage",
        "tasking",
        "experiment",
    ]
    assert set(REGISTRY) == {s.name for s in ANALYSIS_STAGES}
    fields = {f.name for f in dataclasses.fields(RunResults)}
    for s in PIPELINE_STAGES:
        assert s.name in fields and set(s.sections) <= set(SECTIONS)
    required = [s.name for s in PIPELINE_STAGES if not s.optional]
    assert required == ["ward_table", "tasking"]  # the patrol experiment after the list is optional


def test_registry_refuses_bad_stages():
    from hotspots.stages import Stage, check_order

    def run(res):
        return None

    with pytest.raises(ValueError, match="no RunResults attribute"):
        Stage(name="hotspots_v2", title="x", sections=(), depends_on=(), run=run)
    with pytest.raises(ValueError, match="unknown config section"):
        Stage(name="surfaces", title="x", sections=("desnity",), depends_on=(), run=run)
    late = Stage(name="coverage", title="x", sections=(), depends_on=("surfaces",), run=run)
    early = Stage(name="surfaces", title="x", sections=(), depends_on=(), run=run)
    check_order([early, late])
    with pytest.raises(ValueError, match="must run before it"):
        check_order([late, early])


def _surfaces_from_library(cfg, inc, area, grid):
    """The surfaces stage written out as library calls with explicit parameters."""
    from hotspots.analysis import gistar_grid, hotspot_areas, kde, ward_rates
    from hotspots.stages.results import SurfacesResult

    d, g, h = cfg.density, cfg.gistar, cfg.hotspots
    seed = cfg.project.seed if g.seed < 0 else g.seed
    out = {k: {} for k in ("kde", "kde_harm", "gistar", "areas", "rates")}
    for t in sorted(inc["crime_type"].unique()):
        sub = inc[inc["crime_type"] == t]
        if len(sub) < 3:
            continue
        out["kde"][t] = kde(
            sub,
            grid=grid,
            radius_m=d.radius_m or None,
            kernel=d.kernel,
            label=f"{t} density",
            min_radius_m=d.min_radius_m,
            max_radius_m=d.max_radius_m,
        )
        out["kde_harm"][t] = kde(
            sub,
            grid=grid,
            radius_m=out["kde"][t].radius_m,
            kernel=d.kernel,
            weights="harm",
            label=f"{t} harm density",
            harm_scheme=cfg.harm.scheme,
        )
        gi = gistar_grid(
            grid.counts(sub["x"].to_numpy(), sub["y"].to_numpy()),
            grid,
            g.band_m,
            g.permutations,
            seed,
            g.correction,
            g.p_value,
            label=t,
        )
        out["gistar"][t] = gi
        out["areas"][t] = hotspot_areas(
            sub,
            grid,
            gi.to_array(gi.hot(h.confidence), False).astype(bool),
            wards=area.wards,
            harm_scheme=cfg.harm.scheme,
            method=h.method,
            criterion=f"Gi* hot spot at >= {h.confidence}% confidence ({g.correction} corrected)",
            min_cells=h.min_cells,
            top_locations=h.top_locations,
            profile=h.profile,
            label=t,
        )
        den = "households" if t.startswith("burglary") else "population"
        out["rates"][t] = ward_rates(
            sub, area.wards, denominator=den, period_years=cfg.analysis.lookback_days / 365.25, assign="column", label=t
        )
    return SurfacesResult(harm_scheme=cfg.harm.scheme, grid=grid, wards=area.wards, **out)


@pytest.mark.slow
def test_registry_pack_equals_pack_from_library_calls(tmp_path_factory, tmp_path):
    import dataclasses as dc

    from hotspots.analysis import emerging_hotspots, near_repeat, seasonality, short_term_exceptions, ward_table
    from hotspots.coverage.cameras import read_inventory
    from hotspots.coverage.report import coverage_report
    from hotspots.errors import InputError
    from hotspots.forecast.outlook import forecast_outlook
    from hotspots.geo.streets import StreetPoints
    from hotspots.pipeline import write_pack
    from hotspots.stages import RunResults, TrendsResult, load_inputs
    from hotspots.stages.concentration import concentration
    from hotspots.tasking.dosage import run as measure_patrol
    from hotspots.tasking.fim import build_tasking

    registry_pack = build_demo_pack(tmp_path_factory)
    cfg = fast_config()
    tz, seed = cfg.project.timezone, cfg.project.seed
    inp = load_inputs(cfg, DEMO_DATE)
    area, grid, fim, recent = inp.area, inp.grid, inp.fim_date, inp.recent()
    surf = _surfaces_from_library(cfg, recent, area, grid)
    exc_settings = dc.replace(cfg.exceptions, period_days=cfg.analysis.fortnight_days)
    em = emerging_hotspots(inp.incidents, grid, fim, cfg.trends, timezone=tz)
    seas = seasonality(inp.incidents, fim, exc_settings, timezone=tz)
    trends = TrendsResult(
        emerging=em,
        seasonality=seas,
        fim_date=fim,
        notes=em.notes + seas.notes,
        exceptions=short_term_exceptions(inp.incidents, fim, exc_settings, wards=area.wards, timezone=tz),
    )
    nr = near_repeat(inp.incidents, grid, fim, cfg.nearrepeat, seed=seed, timezone=tz, roads=area.roads)
    inventory = read_inventory(cfg.path(cfg.cameras.inventory), cfg.cameras, target_crs=cfg.crs)
    cov = coverage_report(
        recent,
        area,
        grid,
        inventory,
        cameras=cfg.cameras,
        coverage=cfg.coverage,
        siting=cfg.siting,
        anpr=cfg.anpr,
        hotspot_areas=surf.hotspot_polygons(),
        harm_weights=cfg.harm_weights(),
        streets=StreetPoints.from_incidents(inp.incidents, cfg.crs),  # every incident read names the streets
        merge_distance_m=cfg.tasking.merge_distance_m,
    )
    fc = forecast_outlook(
        inp.incidents, area, grid, fim, cfg.forecast, seed=seed, timezone=tz, fortnight_days=cfg.analysis.fortnight_days
    )
    conc = concentration(cfg, inp.incidents, recent, grid, surf)
    res = RunResults(
        inputs=inp,
        ward_table=ward_table(recent, area.wards, inp.window.days, window=inp.window.label),
        surfaces=surf,
        trends=trends,
        nearrepeat=nr,
        coverage=cov,
        forecast=fc,
        concentration=conc,
    )
    try:  # patrol delivered needs the previous pack, and the demo pack has none
        res = dataclasses.replace(res, dosage=measure_patrol(res))
    except InputError as exc:
        res = dataclasses.replace(res, not_run={"dosage": str(exc)})
    res = dataclasses.replace(res, tasking=build_tasking(res))
    library_pack = write_pack(res, tmp_path / f"fim-{DEMO_DATE}")
    assert compare_packs(registry_pack, library_pack) == []
    # and the seam is not vacuous: the packs hold the stages' products
    assert (library_pack / "gis" / "forecast_expected.tif").exists() and len(res.tasking.items) > 0
    assert np.isfinite(surf.kde["burglary_residential"].surface[grid.mask]).all()
