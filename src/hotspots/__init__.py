"""hotspots: crime hotspot engine for community-safety partnerships.

Inside the engine everything is in one projected working CRS in metres
(``[project] crs``, default EPSG:27700, British National Grid).

The functions a notebook user calls (imported on first use, so the command
line starts quickly)::

    cfg = hotspots.load_config("config/demo.toml")
    area = hotspots.load_study_area(cfg)
    incidents = hotspots.load_incidents(cfg, area).incidents
    kde = hotspots.hotspot_kde(incidents, grid=area.grid(100))   # radius chosen and announced
    gi = hotspots.hotspot_gistar(incidents, area.grid(100))
    knox = hotspots.knox(incidents)
    knox = hotspots.near_repeat_knox(incidents, "2025-11-14", cfg.nearrepeat, seed=cfg.project.seed)  # the pack's
    res = hotspots.analyse(cfg, "2025-11-14")     # every stage and the tasking list, in memory
    pack = hotspots.run_pipeline(cfg, "2025-11-14", out_dir="out/fim-2025-11-14")

The analysis verbs are also in :mod:`hotspots.analysis` (``kde``, ``gistar``,
``hotspot_areas``, ``knox``, ``emerging_hotspots``, ...).
"""

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_config": ("hotspots.config", "load_config"),
    "load_study_area": ("hotspots.stages.inputs", "load_study_area"),
    "load_incidents": ("hotspots.stages.inputs", "load_incidents"),
    "hotspot_kde": ("hotspots.analysis.density", "hotspot_kde"),
    "hotspot_gistar": ("hotspots.analysis.gistar", "hotspot_gistar"),
    "knox": ("hotspots.analysis.knox", "knox_for_incidents"),
    "knox_test": ("hotspots.analysis.knox", "knox_test"),
    "emerging_hotspots": ("hotspots.analysis.trends", "emerging_hotspots"),
    "near_repeat": ("hotspots.analysis.nearrepeat", "near_repeat"),
    "near_repeat_knox": ("hotspots.analysis.nearrepeat", "near_repeat_knox"),
    "coverage_report": ("hotspots.coverage.report", "coverage_report"),
    "forecast_outlook": ("hotspots.forecast.outlook", "forecast_outlook"),
    "load_inputs": ("hotspots.stages.inputs", "load_inputs"),
    "analyse": ("hotspots.pipeline", "analyse"),
    "run_pipeline": ("hotspots.pipeline", "run"),
    "write_pack": ("hotspots.pipeline", "write_pack"),
    "build_tasking": ("hotspots.tasking.fim", "build_tasking"),
    "build_map": ("hotspots.render.maps", "build_map"),
    "prepare_map": ("hotspots.render.maps", "prepare"),
    "reporting_to": ("hotspots.announce", "reporting_to"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        mod, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hotspots' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
