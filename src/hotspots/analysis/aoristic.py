"""Aoristic time: spreading each incident over the hours its time window covers.

Burglaries are often discovered hours or days after they happen, so the
record holds a window [start, end]. Each incident carries a unit weight that
is shared among the 168 hours of the week (Monday 00:00 = hour 0) in
proportion to the minutes of its window that fall in each hour (Ratcliffe
2002; the convention of the R package ``aoristic`` 1.x):

* times are local wall-clock times (tz-aware input is converted to
  ``timezone``, default Europe/London; the pipeline passes ``[project] timezone``,
  then read on the wall clock; seconds are ignored);
* the window length is the whole number of minutes from start to end
  (rounded down); the start hour gets the minutes left in it
  (60 - start minute), each following hour 60 minutes, the last hour the rest;
* a window of 0 or 1 minute, a missing end, or an end before the start puts
  the whole weight in the start hour;
* a window of a week (10,080 minutes) or more is spread evenly, 1/168 per hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._util import kernel_array
from ..errors import InputError
from ..model import require_precision, wall_clock
from . import _nearrepeat_kernels as K

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _wall_clock(ts, timezone: str | None) -> pd.Series:
    return wall_clock(ts, timezone).astype("datetime64[ns]")


def aoristic_weights(start, end, timezone: str | None = None) -> np.ndarray:
    """Aoristic weights, shape (n, 168): column ``24 * weekday + hour`` with
    Monday = 0; each row sums to 1 (see the module docstring for the rules).

    Hours and weekdays are read on the wall clock of ``timezone`` (default
    Europe/London; naive timestamps are read as they are)."""
    s = _wall_clock(start, timezone)
    e = _wall_clock(end, timezone) if end is not None else pd.Series(pd.NaT, index=s.index)
    e.index = s.index
    if s.isna().any():
        bad = int(np.argmax(s.isna().to_numpy()))
        raise InputError(f"aoristic weights need a start time for every incident; row {bad} has none.")
    s_min = s.dt.floor("min")
    week_min = (s_min.dt.weekday * 1440 + s_min.dt.hour * 60 + s_min.dt.minute).to_numpy(np.int64)
    dur = ((e - s) / pd.Timedelta(minutes=1)).to_numpy(dtype=float)
    dur = np.where(np.isnan(dur), -1.0, np.floor(dur)).astype(np.int64)
    return K.aoristic_minutes_kernel(kernel_array(week_min, np.int64), kernel_array(dur, np.int64))


def aoristic_hour_by_weekday(start, end, timezone: str | None = None) -> pd.DataFrame:
    """Sum of aoristic weights by hour (rows 0..23) and weekday (columns Mon..Sun)."""
    w = aoristic_weights(start, end, timezone).sum(axis=0).reshape(7, 24).T
    df = pd.DataFrame(w, columns=list(WEEKDAYS))
    df.index.name = "hour"
    return df


def incidents_aoristic(incidents: pd.DataFrame, timezone: str | None = None) -> pd.DataFrame:
    """Hour-by-weekday aoristic table of an Incidents GeoDataFrame.

    Month-precision incidents say nothing about the hour and are refused with a
    :class:`~hotspots.errors.PrecisionError`. Incidents whose window was recorded
    to the day only are spread over the whole day. Hours are local to ``timezone``
    (default Europe/London).
    """
    require_precision(
        incidents,
        "day",
        "The aoristic hour-by-weekday profile",
        "Use the force's own crime extract with committed-from and committed-to times.",
    )
    return aoristic_hour_by_weekday(incidents["start"], incidents["end"], timezone)
