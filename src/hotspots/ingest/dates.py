"""Dates and times from text, read one explicit way: no guessing that could swap a day and a month.

Accepted forms (times optional: ``HH:MM``, ``HH:MM:SS``, fractions, ``am``/``pm``; an
offset such as ``Z`` or ``+01:00`` makes the time absolute, otherwise it is local
time in the configured time zone):

* ``YYYY-MM-DD`` and ``YYYY/MM/DD`` (ISO 8601 and its slash form), ``T`` or a space before the time;
* ``DD/MM/YYYY`` or ``MM/DD/YYYY`` (``/``, ``.`` or ``-`` between; two-digit years as
  Python's ``%y``: 00-68 -> 2000s, 69-99 -> 1900s): which number is the day is decided
  per file (:func:`day_month_order`);
* a named month: ``10 Jan 2025``, ``10-January-2025``, ``Jan 10, 2025``;
* a whole month: ``YYYY-MM`` or ``YYYY/MM`` (police.uk's ``Month``).

Anything else is unreadable (NaT), never a guess: an Excel serial number, a lone
day, ``16-01``. With ``date_format`` (a strptime format) only that format is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

#: The earliest date an incident may have; earlier dates are typing mistakes (quarantined).
EARLIEST_DATE = "1900-01-01"

_TIME = (
    r"(?:(?:[T\s]+|\s*,\s*)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_MONTH_NUMBER = {m: i for i, m in enumerate(_MONTHS.split("|"), start=1)}

_ISO_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_MONTH_ONLY = re.compile(r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})$")
_YMD = re.compile(r"^(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _TIME + "$")
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME + "$")
_DAY_NAME = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_D_MONTHNAME_Y = re.compile(
    r"^"
    + _DAY_NAME
    + r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?P<mon>"
    + _MONTHS
    + r")[a-z]*\.?[\s,-]+(?P<y>\d{4})"
    + _TIME
    + "$",
    re.IGNORECASE,
)
_MONTHNAME_D_Y = re.compile(
    r"^"
    + _DAY_NAME
    + r"(?P<mon>"
    + _MONTHS
    + r")[a-z]*\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})"
    + _TIME
    + "$",
    re.IGNORECASE,
)
#: a time of day anywhere in the text: the value has minute precision
HAS_TIME = re.compile(r"\d{1,2}:\d{2}")


@dataclass(frozen=True)
class DayMonthOrder:
    """Which number of a ``NN/NN/YYYY`` date is the day in one file.

    ``dayfirst`` True (UK ``dd/mm/yyyy``), False (US ``mm/dd/yyyy``) or None (no
    value in the file needs the choice); ``note`` says what was decided from which
    values ('' when nothing was decided).
    """

    dayfirst: bool | None
    note: str = ""


def day_month_order(
    columns: dict[str, pd.Series], rows: pd.Series, where: str, configured: bool | None = None
) -> DayMonthOrder:
    """Decide the day/month order of one file's numeric dates from the values themselves.

    ``columns`` maps a column name to its text values, ``rows`` holds the row
    numbers (same index). A value whose first number is above 12 can only be
    day-first; one whose second number is above 12 only month-first. A file with
    both is refused (it mixes orders); a file with neither but with values such as
    ``03/04/2025`` (3 April or 4 March) is refused unless ``configured`` (the
    source's ``dayfirst``) says; values like ``05/05/2025`` read the same either way.
    """
    first_day: tuple[str, str, int] | None = None
    first_month: tuple[str, str, int] | None = None
    ambiguous: tuple[str, str, int] | None = None
    for col, values in columns.items():
        text = values.fillna("").astype(str).str.strip()
        m = text.str.extract(_NUMERIC)
        ok = m["a"].notna()
        if not ok.any():
            continue
        a = m.loc[ok, "a"].astype(int)
        b = m.loc[ok, "b"].astype(int)
        day_first = (a > 12) & (b <= 12)
        month_first = (b > 12) & (a <= 12)
        either = (a <= 12) & (b <= 12) & (a != b)
        if first_day is None and day_first.any():
            i = day_first.idxmax()
            first_day = (col, text[i], int(rows[i]))
        if first_month is None and month_first.any():
            i = month_first.idxmax()
            first_month = (col, text[i], int(rows[i]))
        if ambiguous is None and either.any():
            i = either.idxmax()
            ambiguous = (col, text[i], int(rows[i]))
    if configured is not None:
        return DayMonthOrder(configured)
    if first_day and first_month:
        raise InputError(
            f"{where}: the dates mix day-first and month-first order: row {first_day[2]} has {first_day[1]!r} in "
            f"column {first_day[0]!r} (the first number is above 12, so it is the day) and row {first_month[2]} has "
            f"{first_month[1]!r} in column {first_month[0]!r} (the second number is above 12, so the month comes "
            "first). Correct the file, or set dayfirst = true or false in this [[incidents]] entry to the order "
            "most rows use (rows in the other order are then quarantined as unreadable dates)."
        )
    if first_day:
        return DayMonthOrder(
            True,
            f"{where}: dates read day first (dd/mm/yyyy), as values such as {first_day[1]!r} "
            f"(row {first_day[2]}) show.",
        )
    if first_month:
        return DayMonthOrder(
            False,
            f"{where}: dates read month first (US order, mm/dd/yyyy), as values such as {first_month[1]!r} "
            f"(row {first_month[2]}) show.",
        )
    if ambiguous:
        raise InputError(
            f"{where}: dates such as {ambiguous[1]!r} (row {ambiguous[2]}, column {ambiguous[0]!r}) could be day "
            "first (UK order) or month first (US order), and no value in the file settles it (none has a first or "
            "second number above 12). Set dayfirst = true (dd/mm/yyyy) or dayfirst = false (mm/dd/yyyy) in this "
            '[[incidents]] entry, or give its exact date_format (e.g. "%d/%m/%Y %H:%M").'
        )
    return DayMonthOrder(None)


def _components(text: pd.Series, dayfirst: bool | None) -> pd.DataFrame:
    """Year, month, day, hour, minute, second, am/pm and offset text per value (NaN where no form matches)."""
    cols = ["y", "m", "d", "H", "M", "S", "ampm", "tz"]
    out = pd.DataFrame(index=text.index, columns=cols, dtype=object)
    todo = pd.Series(True, index=text.index)
    for rx in (_YMD, _NUMERIC, _D_MONTHNAME_Y, _MONTHNAME_D_Y):
        if not todo.any():
            break
        m = text[todo].str.extract(rx)
        hit = m.iloc[:, 0].notna()
        if not hit.any():
            continue
        m = m[hit]
        if rx is _NUMERIC:
            if dayfirst is None:  # only values that read the same either way (a == b) are usable
                same = m["a"].astype(int) == m["b"].astype(int)
                m = m[same]
                dayfirst = True
            m = m.assign(d=m["a"] if dayfirst else m["b"], m=m["b"] if dayfirst else m["a"])
            yy = m["y"].astype(int)
            two = m["y"].str.len() == 2
            m.loc[two, "y"] = np.where(yy[two] <= 68, yy[two] + 2000, yy[two] + 1900).astype(str)
        if "mon" in m.columns:
            m = m.assign(m=m["mon"].str.lower().str[:3].map(_MONTH_NUMBER).astype(str))
        out.loc[m.index, cols] = m[cols].to_numpy()
        todo[m.index] = False
    return out


def _assemble(parts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(local wall-clock text 'YYYY-MM-DD HH:MM:SS', offset text) from components; '' where invalid."""
    ok = parts["y"].notna()
    y = pd.to_numeric(parts["y"], errors="coerce")
    mo = pd.to_numeric(parts["m"], errors="coerce")
    d = pd.to_numeric(parts["d"], errors="coerce")
    h = pd.to_numeric(parts["H"], errors="coerce").fillna(0)
    mi = pd.to_numeric(parts["M"], errors="coerce").fillna(0)
    s = pd.to_numeric(parts["S"], errors="coerce").fillna(0)
    ampm = parts["ampm"].fillna("").astype(str).str.lower().str.replace(".", "", regex=False)
    twelve = ampm != ""
    ok &= ~(twelve & ((h < 1) | (h > 12)))
    h = h.where(~(twelve & (ampm == "am") & (h == 12)), 0)
    h = h.where(~(twelve & (ampm == "pm") & (h < 12)), h + 12)
    ok &= (h <= 23) & (mi <= 59) & (s <= 59)
    text = pd.Series("", index=parts.index, dtype=object)
    idx = ok[ok].index
    if len(idx):
        text[idx] = [
            f"{int(a):04d}-{int(b):02d}-{int(c):02d} {int(e):02d}:{int(f):02d}:{int(g):02d}"
            for a, b, c, e, f, g in zip(y[idx], mo[idx], d[idx], h[idx], mi[idx], s[idx], strict=False)
        ]
    tz = parts["tz"].fillna("").astype(str)
    tz = tz.str.replace(r"^([+-]\d{2})$", r"\g<1>00", regex=True).str.replace("Z", "+0000").str.replace(":", "")
    return text, tz


def localise(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local wall-clock times as tz-aware times in ``tz`` (the first of a repeated autumn hour;
    a time in the skipped spring hour moves forward)."""
    return naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")


def _per_distinct(text: pd.Series, read: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``read(text)``, computed once for each distinct value of ``text`` and spread back to every row
    (police.uk data repeat a few dozen month values over tens of thousands of rows). ``read`` must
    read each value on its own, so that the result is the same as ``read(text)``."""
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    if len(distinct) * 2 > len(text):
        return read(text)
    once = read(pd.Series(distinct, dtype=text.dtype))
    return pd.Series(once.array.take(codes), index=text.index, dtype=once.dtype)


def parse_datetimes(text: pd.Series, tz: str, *, date_format: str = "", dayfirst: bool | None = None) -> pd.Series:
    """Tz-aware timestamps in ``tz`` (NaT where unreadable) from text in the forms of the module docstring.

    ``dayfirst`` is the file's order for ``NN/NN/YYYY`` values (see
    :func:`day_month_order`); with ``date_format`` only that strptime format is read.
    Each distinct value is read once.
    """
    text = text.fillna("").astype(str).str.strip()
    return _per_distinct(text, lambda t: _parse_datetimes(t, tz, date_format, dayfirst))


def _parse_datetimes(text: pd.Series, tz: str, date_format: str, dayfirst: bool | None) -> pd.Series:
    """:func:`parse_datetimes` of stripped text."""
    out = pd.Series(pd.NaT, index=text.index, dtype=f"datetime64[us, {tz}]")
    if not len(text):
        return out
    if date_format:
        aware = "%z" in date_format or "%Z" in date_format
        parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=aware)
        if aware:
            return parsed.dt.tz_convert(tz).dt.as_unit("us")
        return localise(parsed.dt.as_unit("us"), tz)
    month = text.str.fullmatch(_MONTH_ONLY.pattern)
    if month.any():
        parts = text[month].str.extract(_MONTH_ONLY)
        naive = pd.to_datetime(
            parts["y"] + "-" + parts["m"].str.zfill(2) + "-01", format="%Y-%m-%d", errors="coerce"
        ).dt.as_unit("us")
        out[month] = localise(naive, tz)
    iso = ~month & text.str.fullmatch(_ISO_NAIVE.pattern)
    if iso.any():
        out[iso] = localise(pd.to_datetime(text[iso], format="ISO8601", errors="coerce").dt.as_unit("us"), tz)
    rest = ~month & ~iso & (text != "")
    if rest.any():
        wall, offset = _assemble(_components(text[rest], dayfirst))
        naive_rows = (wall != "") & (offset == "")
        if naive_rows.any():
            naive = pd.to_datetime(wall[naive_rows], format="%Y-%m-%d %H:%M:%S", errors="coerce").dt.as_unit("us")
            out[naive[naive.notna()].index] = localise(naive[naive.notna()], tz)
        aware_rows = (wall != "") & (offset != "")
        if aware_rows.any():
            aware = pd.to_datetime(
                wall[aware_rows] + offset[aware_rows], format="%Y-%m-%d %H:%M:%S%z", errors="coerce", utc=True
            )
            aware = aware[aware.notna()]
            out[aware.index] = aware.dt.tz_convert(tz).dt.as_unit("us")
    return out


def precision_of(text: pd.Series, date_format: str = "") -> pd.Series:
    """``minute`` (a time of day is given), ``day`` or ``month`` (``YYYY-MM``) per value."""
    text = text.fillna("").astype(str).str.strip()
    return _per_distinct(text, lambda t: _precision_of(t, date_format))


def _precision_of(text: pd.Series, date_format: str) -> pd.Series:
    """:func:`precision_of` of stripped text."""
    if date_format:
        timed = any(code in date_format for code in ("%H", "%I", "%M", "%X", "%T", "%c", "%R"))
        dated = any(code in date_format for code in ("%d", "%j", "%c", "%x"))
        kind = "minute" if timed else ("day" if dated else "month")
        return pd.Series(kind, index=text.index, dtype=object)
    prec = pd.Series("day", index=text.index, dtype=object)
    prec[text.str.contains(HAS_TIME)] = "minute"
    prec[text.str.fullmatch(_MONTH_ONLY.pattern)] = "month"
    return prec


def is_month(text: pd.Series) -> pd.Series:
    """Whether each value is a whole month (``YYYY-MM`` or ``YYYY/MM``)."""
    return text.fillna("").astype(str).str.strip().str.fullmatch(_MONTH_ONLY.pattern)
