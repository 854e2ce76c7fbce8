"""Calendar periods (years, half-years, quarters) for year-by-year analyses.

An incident belongs to the period holding the midpoint of its ``start``-``end``
window, in local time (the time zone of ``start``, Europe/London in the engine),
so a police.uk crime recorded for "2016-12" falls in 2016. A period is
*complete* when the incidents' time span (earliest ``start`` to latest ``end``)
reaches into its first and its last month (month precision, so exact-time data
whose first crime falls on 3 January still cover January). Partial periods at
either end of the data (e.g. January-February 2024) would look like a fall in
crime, so they are left out unless asked for, and the result says how many
incidents that set aside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import InputError

PERIODS = ("year", "half-year", "quarter")
_MONTHS = {"year": 12, "half-year": 6, "quarter": 3}


@dataclass(frozen=True, eq=False)
class PeriodBins:
    """Which period each incident falls in.

    ``labels`` ("2016", "2016 H1", "2016 Q1"), ``starts`` and ``ends`` (tz-aware,
    end exclusive) describe the periods kept, oldest first; ``index`` gives each
    incident's period (0..len(labels)-1) or -1 when it falls in a period that was
    left out (partial); ``complete`` says which kept periods the data cover fully;
    ``n_set_aside`` counts the incidents in periods left out.
    """

    period: str
    labels: tuple[str, ...]
    starts: tuple[pd.Timestamp, ...]
    ends: tuple[pd.Timestamp, ...]
    complete: npt.NDArray[np.bool_]
    index: npt.NDArray[np.int64]
    n_set_aside: int

    @property
    def n(self) -> int:
        return len(self.labels)


def _label(year: int, k: int, period: str) -> str:
    if period == "year":
        return str(year)
    return f"{year} {'H' if period == 'half-year' else 'Q'}{k + 1}"


def period_bins(incidents: pd.DataFrame, period: str = "year", complete_only: bool = True) -> PeriodBins:
    """Bin incidents (``start``, ``end`` tz-aware) into calendar periods.

    ``period`` is ``year``, ``half-year`` or ``quarter``. With ``complete_only``
    (default) periods the data do not cover from end to end are left out.
    """
    if period not in PERIODS:
        raise InputError(f"period must be one of {list(PERIODS)}, got {period!r}.")
    for col in ("start", "end"):
        if col not in incidents.columns:
            raise InputError(f"incidents need a {col!r} column (tz-aware timestamps) to be split into periods.")
    start = pd.DatetimeIndex(incidents["start"])
    end = pd.DatetimeIndex(incidents["end"])
    if start.tz is None:
        raise InputError(
            "incident 'start' times have no time zone; load incidents with the engine's ingest "
            "(times are tz-aware, Europe/London)."
        )
    tz = start.tz
    if len(start) == 0:
        return PeriodBins(period, (), (), (), np.zeros(0, bool), np.zeros(0, np.int64), 0)
    mid = (start + (end - start) / 2).tz_convert(tz)
    months = _MONTHS[period]
    k_of = (mid.month.to_numpy() - 1) // months
    per_year = 12 // months
    code = mid.year.to_numpy().astype(np.int64) * per_year + k_of  # running period number
    first, last = start.min().tz_convert(tz), end.max().tz_convert(tz)
    first_month = int(first.year) * 12 + int(first.month) - 1  # running month numbers
    last_month = int(last.year) * 12 + int(last.month) - 1
    lo = int(first.year) * per_year + (int(first.month) - 1) // months
    hi = int(last.year) * per_year + (int(last.month) - 1) // months
    labels, starts, ends, complete = [], [], [], []
    for c in range(lo, hi + 1):
        yr, k = divmod(c, per_year)
        s = pd.Timestamp(year=yr, month=k * months + 1, day=1, tz=tz)
        e = s + pd.DateOffset(months=months)
        whole = bool(first_month <= c * months and last_month >= (c + 1) * months - 1)
        if complete_only and not whole:
            continue
        labels.append(_label(yr, k, period))
        starts.append(s)
        ends.append(e)
        complete.append(whole)
    kept_codes = np.array([int(s.year) * per_year + (int(s.month) - 1) // months for s in starts], dtype=np.int64)
    index = np.full(code.size, -1, dtype=np.int64)
    if kept_codes.size:
        pos = np.minimum(np.searchsorted(kept_codes, code), kept_codes.size - 1)
        hit = kept_codes[pos] == code
        index[hit] = pos[hit]
    return PeriodBins(
        period=period,
        labels=tuple(labels),
        starts=tuple(starts),
        ends=tuple(ends),
        complete=np.array(complete, dtype=bool),
        index=index,
        n_set_aside=int((index < 0).sum()),
    )
