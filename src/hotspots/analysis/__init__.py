"""The analysis library: arrays or GeoDataFrames and explicit parameters in, frozen results out.

A notebook user calls the verbs on their own data, in a projected CRS in
metres (British National Grid by default)::

    import hotspots.analysis as ha
    grid = area.grid(100)                       # or hotspots.geo.grid.Grid.from_boundary(polygon, 100)
    k = ha.kde(incidents, grid)                 # radius chosen automatically and announced
    g = ha.gistar(incidents, grid)              # Gi* with FDR on cell counts
    areas = ha.hotspot_areas(incidents, grid, g.to_array(g.hot(95), False).astype(bool))
    kx = ha.knox(incidents)                     # banded Knox test (day-precision dates)
    em = ha.emerging_hotspots(incidents, grid, "2025-11-14")
    nr = ha.near_repeat(incidents, grid, "2025-11-14")

Each checks its inputs first (projected CRS in metres, the same CRS for
points, grid and polygons, non-empty input) and raises
:class:`~hotspots.errors.InputError` saying what to do; each automatic choice
is announced (:mod:`hotspots.announce`) and kept in the result's ``choices``.
The verbs are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

#: verb -> (module, function)
VERBS = {
    "kde": ("density", "hotspot_kde"),
    "density_surface": ("density", "density_surface"),
    "gistar": ("gistar", "hotspot_gistar"),
    "gistar_grid": ("gistar", "gistar_grid"),
    "gistar_polygons": ("gistar", "gistar_polygons"),
    "hotspot_areas": ("hotspot_areas", "hotspot_areas"),
    "knox": ("knox", "knox_for_incidents"),
    "knox_test": ("knox", "knox_test"),
    "local_knox": ("local_knox", "local_knox"),
    "prospective_surface": ("prospective", "prospective_surface"),
    "alert_zones": ("alerts", "alert_zones"),
    "repeat_victimisation": ("repeats", "repeat_victimisation"),
    "aoristic_weights": ("aoristic", "aoristic_weights"),
    "near_repeat": ("nearrepeat", "near_repeat"),
    "emerging_hotspots": ("trends", "emerging_hotspots"),
    "short_term_exceptions": ("exceptions", "short_term_exceptions"),
    "seasonality": ("exceptions", "seasonality"),
    "evaluate_intervention": ("evaluate", "evaluate_intervention"),
    "ward_rates": ("rates", "ward_rates"),
    "ward_table": ("ward_table", "ward_table"),
}

__all__ = sorted(VERBS)


def __getattr__(name: str) -> Any:
    if name in VERBS:
        module, attr = VERBS[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hotspots.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
