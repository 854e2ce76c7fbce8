"""Stages: the config-reading layer between the library and the products.

Each stage module (``ward_table``, ``surfaces``, ``trends``, ``nearrepeat``,
``coverage``, ``forecast``, ``concentration``) names the config sections it reads, translates them
into explicit parameters for the library (``analysis/``, ``coverage/``,
``forecast/``) and returns a typed result that becomes one attribute of
:class:`RunResults`. :func:`load_inputs` loads what every command starts from;
:func:`run_stages` runs a list of stages (see :mod:`.registry`).
:data:`ANALYSIS_STAGES` lists the analysis stages in the order they run; the
pipeline adds the tasking list (:mod:`hotspots.tasking.stage`) after them.
"""

from __future__ import annotations

from . import concentration, coverage, forecast, nearrepeat, surfaces, trends, ward_table
from .inputs import RunInputs, load_incidents, load_inputs, load_study_area, parse_fim_date
from .registry import Stage, check_order, run_stages
from .results import RunResults, SurfacesResult, TaskingList, TrendsResult

#: The analysis stages, in the order they run.
ANALYSIS_STAGES: tuple[Stage, ...] = (
    ward_table.STAGE,
    surfaces.STAGE,
    trends.STAGE,
    nearrepeat.STAGE,
    coverage.STAGE,
    forecast.STAGE,
    concentration.STAGE,
)
check_order(ANALYSIS_STAGES)

#: Stage name -> stage, for the analysis stages.
REGISTRY: dict[str, Stage] = {s.name: s for s in ANALYSIS_STAGES}

__all__ = [
    "ANALYSIS_STAGES",
    "REGISTRY",
    "RunInputs",
    "RunResults",
    "Stage",
    "SurfacesResult",
    "TaskingList",
    "TrendsResult",
    "check_order",
    "load_incidents",
    "load_inputs",
    "load_study_area",
    "parse_fim_date",
    "run_stages",
]
