"""Stage ``ward_table``: counts, harm and yearly rates per ward over the analysis window ([analysis])."""

from __future__ import annotations

import pandas as pd

from ..analysis.ward_table import ward_table
from .registry import Stage
from .results import RunResults


def run(res: RunResults) -> pd.DataFrame:
    """One row per ward for the ``[analysis] lookback_days`` before the meeting (see :func:`ward_table`)."""
    return ward_table(res.recent(), res.area.wards, period_days=res.cfg.analysis.lookback_days)


STAGE: Stage[pd.DataFrame] = Stage(
    name="ward_table", title="ward rates", sections=("analysis",), depends_on=(), run=run, optional=False
)
