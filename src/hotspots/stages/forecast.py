"""Stage ``forecast``: the forecast method chosen by backtest on the area's own data, and its forecast.

Reads ``[forecast]`` (``horizon_days`` 0 = ``[analysis] fortnight_days``),
``[project] seed`` and ``[project] timezone`` and calls
:func:`hotspots.forecast.outlook.forecast_outlook` on every incident before the
meeting date.
"""

from __future__ import annotations

import geopandas as gpd

from ..config import Config
from ..forecast.outlook import ForecastResult, forecast_outlook
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .registry import Stage
from .results import RunResults


def forecast(
    cfg: Config, incidents: gpd.GeoDataFrame, area: StudyArea, grid: Grid, fim_date, progress=None
) -> ForecastResult:
    """The forecast from ``fim_date`` with the settings of ``cfg``."""
    return forecast_outlook(
        incidents,
        area,
        grid,
        fim_date,
        cfg.forecast,
        seed=cfg.project.seed,
        timezone=cfg.timezone,
        fortnight_days=cfg.analysis.fortnight_days,
        progress=progress,
    )


def run(res: RunResults) -> ForecastResult:
    return forecast(res.cfg, res.incidents, res.area, res.grid, res.fim_date)


STAGE: Stage[ForecastResult] = Stage(
    name="forecast", title="forecast", sections=("forecast", "analysis", "project"), depends_on=(), run=run
)
