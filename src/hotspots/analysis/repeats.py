"""Repeat victimisation: burglaries at a location already burgled within a year.

A *location* is a point with identical coordinates after rounding to
``precision_m`` metres (default 1 m). A burglary is a *repeat* when the same
location had another burglary in the ``window_days`` (default 365) days
before it. Burglaries at one location on the same day (or, for police.uk,
in the same month) are taken in input order: the first is not a repeat, the
others are. The repeat rate KPI is the share of the
burglaries in the reporting period that are repeats; the partnership's
baseline is about 5-6%.

Caveat: police.uk data snap every crime to one of a fixed set of anonymised
map points ("On or near ..." a street), each shared by several addresses, so
a "repeat location" there is a snap point, not an address, and the rate
over-states true repeat victimisation. Only a force extract with full
addresses or exact coordinates measures repeats at the same dwelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._csvsafe import write_csv
from ..model import resolve_timezone, wall_clock

SNAP_POINT_CAVEAT = (
    "Locations are police.uk anonymised snap points (each shared by several addresses), not addresses: "
    "a 'repeat' here means the same snap point was burgled again, so the rate over-states repeat "
    "victimisation of the same dwelling. Use the force's own extract with addresses for the KPI."
)


@dataclass(frozen=True, eq=False)
class RepeatResult:
    """Repeat-victimisation KPI and the list of repeat locations."""

    n_burglaries: int  # burglaries in the reporting period
    n_repeats: int  # of which at a location burgled in the previous window
    repeat_rate: float  # n_repeats / n_burglaries (NaN if none)
    window_days: int
    period_start: pd.Timestamp | None
    period_end: pd.Timestamp | None
    locations: pd.DataFrame  # one row per repeat location
    is_repeat: np.ndarray  # per input burglary (False outside the period)
    caveat: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.locations.copy()

    def summary(self) -> str:
        if self.n_burglaries == 0:
            return "No burglaries in the reporting period; no repeat rate."
        s = (
            f"Repeat rate: {100 * self.repeat_rate:.1f}% ({self.n_repeats} of {self.n_burglaries} burglaries "
            f"were at a location burgled in the previous {self.window_days} days); "
            f"{len(self.locations)} repeat location(s)."
        )
        if self.caveat:
            s += " Caveat: " + self.caveat
        return s

    def to_csv(self, path: str | Path) -> Path:
        return write_csv(self.locations, path)


def repeat_victimisation(
    x,
    y,
    dates,
    *,
    location_text=None,
    period_start=None,
    period_end=None,
    window_days: int = 365,
    precision_m: float = 1.0,
    snap_points: bool = False,
    timezone: str | None = None,
) -> RepeatResult:
    """Repeat burglaries and the repeat rate (see the module docstring).

    x, y : metres (a projected CRS); dates : datetime-like (tz-aware dates are
    read as local calendar days in ``timezone``, default Europe/London).
    Burglaries in [period_start, period_end) are scored (default: all);
    earlier ones serve as history. ``snap_points`` adds the police.uk caveat to
    the result.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    d = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    tz = resolve_timezone(timezone)
    d = wall_clock(d, tz)
    day = ((d.dt.normalize() - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy()
    n = len(x)
    kx = np.round(x / precision_m).astype(np.int64)
    ky = np.round(y / precision_m).astype(np.int64)
    key = pd.Series(list(zip(kx, ky, strict=True)))
    codes = pd.factorize(key)[0]
    order = np.lexsort((np.arange(n), day, codes))  # stable: ties keep input order
    is_rep = np.zeros(n, dtype=bool)
    # walk each location's burglaries in date order
    c_sorted = codes[order]
    d_sorted = day[order]
    start = 0
    for k in range(1, n + 1):
        if k == n or c_sorted[k] != c_sorted[start]:
            ds = d_sorted[start:k]
            for a in range(1, k - start):
                # an earlier burglary here (in date order) no more than window_days before
                if ds[a] - ds[a - 1] <= window_days:
                    is_rep[order[start + a]] = True
            start = k
    ps = pd.Timestamp(period_start) if period_start is not None else None
    pe = pd.Timestamp(period_end) if period_end is not None else None
    if ps is not None and ps.tz is not None:
        ps = ps.tz_convert(tz).tz_localize(None)
    if pe is not None and pe.tz is not None:
        pe = pe.tz_convert(tz).tz_localize(None)
    in_period = np.ones(n, dtype=bool)
    if ps is not None:
        in_period &= (d >= ps).to_numpy()
    if pe is not None:
        in_period &= (d < pe).to_numpy()
    rep = is_rep & in_period
    nb = int(in_period.sum())
    nr = int(rep.sum())
    # locations with a repeat in the period, in the order of their codes; per location the first
    # burglary's point and text, the counts in the period and the first and last dates
    rows = []
    txt = None if location_text is None else pd.Series(location_text).reset_index(drop=True)
    with_repeat = np.unique(codes[rep])
    if with_repeat.size:
        n_codes = int(codes.max()) + 1
        _distinct, first = np.unique(codes, return_index=True)  # codes are 0 .. n_codes - 1
        n_in_period = np.bincount(codes, weights=in_period, minlength=n_codes)
        n_repeats = np.bincount(codes, weights=rep, minlength=n_codes)
        span = d.groupby(codes).agg(["min", "max"])
        for code in with_repeat:
            i0 = int(first[code])
            rows.append(
                {
                    "x": float(x[i0]),
                    "y": float(y[i0]),
                    "location": "" if txt is None else str(txt.iloc[i0]),
                    "n_burglaries_in_period": int(n_in_period[code]),
                    "n_repeats_in_period": int(n_repeats[code]),
                    "first_date": span.at[code, "min"],
                    "last_date": span.at[code, "max"],
                }
            )
    locs = pd.DataFrame(
        rows, columns=["x", "y", "location", "n_burglaries_in_period", "n_repeats_in_period", "first_date", "last_date"]
    )
    if len(locs):
        locs = locs.sort_values(["n_repeats_in_period", "last_date"], ascending=[False, False]).reset_index(drop=True)
    return RepeatResult(
        n_burglaries=nb,
        n_repeats=nr,
        repeat_rate=(nr / nb) if nb else float("nan"),
        window_days=int(window_days),
        period_start=ps,
        period_end=pe,
        locations=locs,
        is_repeat=rep,
        caveat=SNAP_POINT_CAVEAT if snap_points else "",
    )
