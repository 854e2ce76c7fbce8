"""Stage ``forecast``: the forecast method chosen by backtest on the area's own data, and its forecast.

Reads ``[forecast]`` (``horizon_days`` 0 = ``[analysis] fortnight_days``),
``[project] seed`` and ``[project] timezone`` and calls
:func:`hotspots.forecast.outlook.forecast_outlook` on every incident before the
meeting date. The fitted surfaces are kept in ``.hotspots-cache`` beside the pack
folder (``[output] cache``) for the next meeting's pack to reuse.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from .._util import available_workers
from ..config import Config
from ..forecast.outlook import ForecastResult, forecast_outlook
from ..forecast.store import PersistentCache
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .registry import Stage
from .results import RunResults

#: The folder beside the packs that keeps the forecast's fits between meetings (safe to delete).
CACHE_FOLDER = ".hotspots-cache"


def cache_folder(pack_dir: Path) -> Path:
    """Where the forecast keeps its fits between meetings: ``.hotspots-cache`` beside the pack folder."""
    return Path(pack_dir).parent / CACHE_FOLDER


def forecast(
    cfg: Config,
    incidents: gpd.GeoDataFrame,
    area: StudyArea,
    grid: Grid,
    fim_date,
    progress=None,
    pack_dir: Path | None = None,
    workers: int | None = None,
) -> ForecastResult:
    """The forecast from ``fim_date`` with the settings of ``cfg``.

    With ``pack_dir`` and ``[output] cache`` (the default) the fitted surfaces are kept in
    :func:`cache_folder` and reused by the next run on the same data and settings. The backtest
    fits its origins in ``workers`` processes side by side (default: one per available core, one
    inside a worker of ``hotspots run-boroughs``; :func:`hotspots._util.available_workers`); the
    result is the same whatever the number."""
    cache = PersistentCache(cache_folder(pack_dir)) if pack_dir is not None and cfg.output.cache else None
    result = forecast_outlook(
        incidents,
        area,
        grid,
        fim_date,
        cfg.forecast,
        seed=cfg.project.seed,
        timezone=cfg.timezone,
        fortnight_days=cfg.analysis.fortnight_days,
        progress=progress,
        cache=cache,
        workers=available_workers() if workers is None else workers,
    )
    if cache is not None:
        cache.prune()
    return result


def run(res: RunResults) -> ForecastResult:
    return forecast(res.cfg, res.incidents, res.area, res.grid, res.fim_date, pack_dir=res.inputs.pack_dir)


STAGE: Stage[ForecastResult] = Stage(
    name="forecast",
    title="forecast",
    sections=("forecast", "analysis", "project"),
    depends_on=(),
    run=run,
    background=True,
)
