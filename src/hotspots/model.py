"""The incident table contract and the time rules every analysis shares.

Incidents
    A GeoDataFrame in the working CRS (``[project] crs``, default EPSG:27700,
    metres) with exactly :data:`INCIDENT_COLUMNS`. ``crime_type`` is a
    canonical category (see :mod:`hotspots.config`), ``offence`` the source's
    own label; ``start``/``end`` are tz-aware timestamps (``[project] timezone``,
    default Europe/London) bounding when the crime happened (equal when the
    time is exact); ``time_precision`` is ``minute``, ``day`` or ``month``
    (police.uk is ``month``: start = first instant of the month, end = last).
    ``harm`` is the weight of the configured harm scheme.

The study area and the grid contracts live in :mod:`hotspots.geo`.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from .config.sections import DEFAULT_TIMEZONE
from .errors import InputError, PrecisionError

INCIDENT_COLUMNS = (
    "incident_id",
    "crime_type",
    "offence",
    "start",
    "end",
    "time_precision",
    "x",
    "y",
    "location_text",
    "ward_code",
    "lsoa_code",
    "harm",
    "geometry",
)

#: Order of time precisions from finest to coarsest.
PRECISIONS = ("minute", "day", "month")


def coarsest_precision(incidents: pd.DataFrame) -> str:
    """The coarsest ``time_precision`` present (``minute`` < ``day`` < ``month``)."""
    present = set(incidents["time_precision"].unique()) if len(incidents) else {"minute"}
    for p in reversed(PRECISIONS):
        if p in present:
            return p
    return "minute"


def require_precision(incidents: pd.DataFrame, needed: str, analysis: str, remedy: str = "") -> None:
    """Refuse an analysis that needs finer time than the data has.

    ``needed`` is ``minute`` or ``day``. Raises :class:`PrecisionError` whose
    message says why and what would work instead.
    """
    have = coarsest_precision(incidents)
    if PRECISIONS.index(have) > PRECISIONS.index(needed):
        n = int((incidents["time_precision"] == have).sum())
        msg = (
            f"{analysis} needs {needed}-precision times, but {n} incident(s) only have {have} precision "
            f"(police.uk publishes months only)."
        )
        if remedy:
            msg += " " + remedy
        raise PrecisionError(msg)


def midpoint_times(incidents: pd.DataFrame) -> np.ndarray:
    """Midpoint of each incident's [start, end] window as float days since 1970-01-01 (UTC)."""
    s = days_since_epoch(incidents["start"])
    e = days_since_epoch(incidents["end"])
    return (s + e) / 2.0


def days_since_epoch(times) -> np.ndarray:
    """Tz-aware timestamps (Series, index or list) as float days since 1970-01-01 00:00 UTC,
    whatever pandas time unit they are stored in."""
    return pd.DatetimeIndex(times).tz_convert("UTC").as_unit("ns").asi8 / 86400e9


def resolve_timezone(timezone: str | None) -> str:
    """The time zone to read incident times in: ``timezone``, else the default (Europe/London).

    The stages always pass ``[project] timezone``; the default serves notebook
    callers who leave it out.
    """
    return timezone or DEFAULT_TIMEZONE


def wall_clock(times, timezone: str | None = None) -> pd.Series:
    """Timestamps as naive local wall-clock times in ``timezone`` (default Europe/London); naive times
    are taken to be wall-clock times already."""
    s = pd.to_datetime(pd.Series(times))
    if s.dt.tz is not None:
        s = s.dt.tz_convert(resolve_timezone(timezone)).dt.tz_localize(None)
    return s


def local_midnight(value, timezone: str) -> pd.Timestamp:
    """A date (or timestamp) as tz-aware midnight at the start of that local day in ``timezone``."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize(timezone) if ts.tzinfo is None else ts.tz_convert(timezone)
    return ts.normalize()


def day_numbers(local_naive: pd.Series) -> np.ndarray:
    """Naive local timestamps as whole calendar days since 1970-01-01 (float)."""
    return ((pd.Series(local_naive).dt.normalize() - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(
        dtype=float
    )


#: How many days after today a meeting date may lie; a later date is a typing mistake.
MAX_DAYS_AHEAD = 366

#: The earliest meeting (or other calendar) date accepted.
EARLIEST_MEETING = dt.date(1900, 1, 1)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_calendar_date(
    value: str | dt.date, what: str, today: dt.date | None = None, noun: str = "the date"
) -> dt.date:
    """A calendar date written ``YYYY-MM-DD`` (or a date or timestamp object, taken as its calendar day)
    from 1900 up to :data:`MAX_DAYS_AHEAD` days after ``today`` (default: today's date). Anything else
    is an :class:`~hotspots.errors.InputError` naming ``what`` (the option or key) and the fix, which
    asks for ``noun`` (e.g. "the meeting date") as YYYY-MM-DD."""
    if isinstance(value, dt.date) and not pd.isna(value):  # a date, datetime or Timestamp (not NaT)
        day = value.date() if isinstance(value, dt.datetime) else value
    else:
        text = str(value).strip()
        try:
            if not _DATE_RE.match(text):
                raise ValueError(text)
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{what} {value!r} is not a date; give {noun} as YYYY-MM-DD, e.g. 2025-11-14.") from None
    text = f"{day:%Y-%m-%d}"
    today = today or dt.date.today()
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise InputError(
            f"{what} {text} is more than a year after today ({today:%Y-%m-%d}); give {noun} as "
            "YYYY-MM-DD (a typing mistake in the year?)."
        )
    if day < EARLIEST_MEETING:
        raise InputError(f"{what} {text} is before {EARLIEST_MEETING:%Y}; give {noun} as YYYY-MM-DD.")
    return day


def parse_meeting_date(value: str | dt.date, what: str = "--date", today: dt.date | None = None) -> dt.date:
    """A meeting (FIM) date: :func:`parse_calendar_date` asking for "the meeting date"."""
    return parse_calendar_date(value, what, today, noun="the meeting date")
