"""Stage ``nearrepeat``: Knox test, prospective surface, alert zones and repeat victimisation.

Reads ``[nearrepeat]`` and passes it with ``[project] seed`` and
``[project] timezone`` to :func:`hotspots.analysis.nearrepeat.near_repeat` on
every incident before the meeting date; street names of the alert zones come
from the incidents' location text and the study area's roads.
"""

from __future__ import annotations

import geopandas as gpd

from ..analysis.nearrepeat import NearRepeatResult, near_repeat
from ..config import Config
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from .registry import Stage
from .results import RunResults


def nearrepeat(cfg: Config, incidents: gpd.GeoDataFrame, area: StudyArea, grid: Grid, fim_date) -> NearRepeatResult:
    """The near-repeat analysis of ``incidents`` for the meeting ``fim_date`` with the settings of ``cfg``."""
    return near_repeat(
        incidents, grid, fim_date, cfg.nearrepeat, seed=int(cfg.project.seed), timezone=cfg.timezone, roads=area.roads
    )


def run(res: RunResults) -> NearRepeatResult:
    return nearrepeat(res.cfg, res.incidents, res.area, res.grid, res.fim_date)


STAGE: Stage[NearRepeatResult] = Stage(
    name="nearrepeat",
    title="nearrepeat",
    sections=("nearrepeat", "project"),
    depends_on=(),
    run=run,
    background=True,
)
