"""Stage ``trends``: emerging hotspots, short-term exceptions ("what changed") and the seasonal outlook.

Reads ``[trends]`` and ``[exceptions]`` (``period_days`` 0 = ``[analysis]
fortnight_days``, the partnership's meeting cycle) and ``[project] timezone``,
and runs the library's :func:`~hotspots.analysis.trends.emerging_hotspots`,
:func:`~hotspots.analysis.exceptions.short_term_exceptions` (per ward and for
the whole study area) and :func:`~hotspots.analysis.exceptions.seasonality` on
every incident before the meeting date.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd

from ..analysis.exceptions import seasonality, short_term_exceptions
from ..analysis.trends import emerging_hotspots, to_fim_timestamp
from ..config import Config
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .registry import Stage
from .results import RunResults, TrendsResult


def trends(cfg: Config, incidents: gpd.GeoDataFrame, area: StudyArea, grid: Grid, fim_date) -> TrendsResult:
    """Emerging hotspots, exceptions and seasonality of ``incidents`` for the meeting ``fim_date``
    with the settings of ``cfg``."""
    ecfg = cfg.exceptions
    if ecfg.period_days == 0:  # the partnership's meeting cycle
        ecfg = dataclasses.replace(ecfg, period_days=cfg.analysis.fortnight_days)
    tz = cfg.timezone
    fim = to_fim_timestamp(fim_date, tz)
    em = emerging_hotspots(incidents, grid, fim, cfg.trends, timezone=tz)
    exc = short_term_exceptions(incidents, fim, ecfg, wards=area.wards, timezone=tz)
    seas = seasonality(incidents, fim, ecfg, timezone=tz)
    return TrendsResult(
        emerging=em, exceptions=exc, seasonality=seas, fim_date=fim, notes=tuple(em.notes) + tuple(seas.notes)
    )


def run(res: RunResults) -> TrendsResult:
    return trends(res.cfg, res.incidents, res.area, res.grid, res.fim_date)


STAGE: Stage[TrendsResult] = Stage(
    name="trends",
    title="trends",
    sections=("trends", "exceptions", "analysis"),
    depends_on=(),
    run=run,
    background=True,
)
