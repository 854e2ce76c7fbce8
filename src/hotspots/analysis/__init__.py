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
"""

from __future__ import annotations

from .alerts import alert_zones
from .aoristic import aoristic_weights
from .density import density_surface
from .density import hotspot_kde as kde
from .evaluate import evaluate_intervention
from .exceptions import seasonality, short_term_exceptions
from .gistar import gistar_grid, gistar_polygons
from .gistar import hotspot_gistar as gistar
from .hotspot_areas import hotspot_areas
from .knox import knox_for_incidents as knox
from .knox import knox_test
from .local_knox import local_knox
from .nearrepeat import near_repeat
from .prospective import prospective_surface
from .rates import ward_rates
from .repeats import repeat_victimisation
from .trends import emerging_hotspots
from .ward_table import ward_table

__all__ = [
    "alert_zones",
    "aoristic_weights",
    "density_surface",
    "emerging_hotspots",
    "evaluate_intervention",
    "gistar",
    "gistar_grid",
    "gistar_polygons",
    "hotspot_areas",
    "kde",
    "knox",
    "knox_test",
    "local_knox",
    "near_repeat",
    "prospective_surface",
    "repeat_victimisation",
    "seasonality",
    "short_term_exceptions",
    "ward_rates",
    "ward_table",
]
