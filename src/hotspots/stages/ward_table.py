"""Stage ``ward_table``: counts, harm and yearly rates per ward over the analysis window ([analysis])."""

from __future__ import annotations

import pandas as pd

from ..analysis.ward_table import ward_table
from .registry import Stage
from .results import RunResults


def run(res: RunResults) -> pd.DataFrame:
    """One row per ward for the analysis window (see :class:`~hotspots.stages.inputs.AnalysisWindow`):
    whole calendar months for month-precision data, rates per year over the window's true length in
    days. The ``window`` column states the window on every row."""
    window = res.inputs.window
    return ward_table(window.select(res.incidents), res.area.wards, period_days=window.days, window=window.label)


STAGE: Stage[pd.DataFrame] = Stage(
    name="ward_table", title="ward rates", sections=("analysis",), depends_on=(), run=run, optional=False
)
