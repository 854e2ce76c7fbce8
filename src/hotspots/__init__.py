"""hotspots: crime hotspot engine for community-safety partnerships.

Inside the engine everything is EPSG:27700 (British National Grid, metres).

The functions a notebook user calls (imported on first use, so the command
line starts quickly)::

    cfg = hotspots.load_config("config/demo.toml")
    area = hotspots.load_study_area(cfg)
    incidents = hotspots.load_incidents(cfg, area).incidents
    kde = hotspots.hotspot_kde(incidents, grid=area.grid(100))
    gi = hotspots.hotspot_gistar(incidents, area.grid(100))
    knox = hotspots.knox(incidents)
    res = hotspots.analyse(cfg, "2025-11-14")     # every stage, in memory
    pack = hotspots.run_pipeline(cfg, "2025-11-14", out_dir="out/fim-2025-11-14")
"""

__version__ = "0.1.0"

_EXPORTS = {
    "load_config": ("hotspots.config", "load_config"),
    "load_study_area": ("hotspots.geo.study_area", "load_study_area"),
    "load_incidents": ("hotspots.ingest", "load_incidents"),
    "hotspot_kde": ("hotspots.analysis.density", "hotspot_kde"),
    "hotspot_gistar": ("hotspots.analysis.gistar", "hotspot_gistar"),
    "knox": ("hotspots.analysis.knox", "knox_for_incidents"),
    "knox_test": ("hotspots.analysis.knox", "knox_test"),
    "emerging_hotspots": ("hotspots.analysis.trends", "emerging_hotspots"),
    "run_surfaces": ("hotspots.analysis.surfaces", "run_surfaces"),
    "run_trends": ("hotspots.analysis.trends", "run_trends"),
    "run_nearrepeat": ("hotspots.analysis.nearrepeat", "run_nearrepeat"),
    "run_coverage": ("hotspots.coverage.report", "run_coverage"),
    "run_forecast": ("hotspots.forecast.stage", "run_forecast"),
    "analyse": ("hotspots.pipeline", "analyse"),
    "run_pipeline": ("hotspots.pipeline", "run"),
    "write_pack": ("hotspots.pipeline", "write_pack"),
    "build_tasking": ("hotspots.tasking.fim", "build_tasking"),
    "build_map": ("hotspots.render.maps", "build_map"),
    "prepare_map": ("hotspots.render.maps", "prepare"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        mod, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hotspots' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
