"""Validation: raw rows -> canonical incidents (working CRS, metres) or quarantine.

Each row ends in exactly one of the two tables. A quarantined row carries the
first reason it failed (:data:`REASONS`), a detail sentence, its source file
and row number and its original values, so ``accepted + quarantined = read``
always holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from ..config.sections import IncidentSource
from ..crs import DEFAULT_CRS, same_crs

#: Quarantine reason codes, in the order rows are checked.
REASONS = {
    "missing_coordinates": "no x/y (or longitude/latitude) value",
    "non_numeric_coordinates": "x/y (or longitude/latitude) is not a number",
    "bad_date": "date could not be read",
    "end_before_start": "end date-time is before the start",
    "future_date": "date is in the future",
    "unmapped_crime_type": "crime type label is not in the crime-type mapping",
    "excluded_crime_type": "crime type is not one of the source's configured crime_types",
    "outside_study_area": "point is outside the study area by more than the tolerance",
    "duplicate_id": "the incident id repeats an earlier row's id",
}

_MONTH_RE = re.compile(r"^\s*\d{4}[-/]\d{1,2}\s*$")
_TIME_RE = re.compile(r"\d{1,2}:\d{2}")


@dataclass
class Checked:
    """Rows that passed every check, and rows quarantined with reasons."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame


def _float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.strip(), errors="coerce")


def _localise(ts: pd.Series, tz: str) -> pd.Series:
    if getattr(ts.dt, "tz", None) is not None:
        return ts.dt.tz_convert(tz)
    return ts.dt.tz_localize(tz, ambiguous=np.ones(len(ts), dtype=bool), nonexistent="shift_forward")


def _parse_datetimes(s: pd.Series, fmt: str, dayfirst: bool) -> pd.Series:
    text = s.astype(str).str.strip()
    if fmt:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    out = pd.to_datetime(text, format="ISO8601", errors="coerce")
    retry = out.isna() & (text != "")
    if retry.any():
        out[retry] = pd.to_datetime(text[retry], format="mixed", dayfirst=dayfirst, errors="coerce")
    return out


def parse_times(raw: pd.DataFrame, src: IncidentSource, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(start, end, time_precision) per row; NaT where unreadable.

    ``date`` values like ``2016-01`` are whole months (start = first instant,
    end = last second of the month); dates without a time of day are whole days;
    anything with hours and minutes has minute precision.
    """
    n = len(raw)
    prec = pd.Series(["minute"] * n, index=raw.index, dtype=object)
    if "start" in raw.columns and raw["start"].notna().any():
        s_text = raw["start"].fillna("").astype(str)
        e_text = raw["end"].fillna("").astype(str)
        e_text = e_text.where(e_text.str.strip() != "", s_text)
        start = _parse_datetimes(s_text, src.date_format, src.dayfirst)
        end = _parse_datetimes(e_text, src.date_format, src.dayfirst)
        has_time = s_text.str.contains(_TIME_RE)
        is_month = s_text.str.match(_MONTH_RE)
        day = ~has_time & ~is_month
        prec[day] = "day"
        prec[is_month] = "month"
        end = end.where(~day, end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
        end = end.where(~is_month, end + pd.offsets.MonthBegin(1) - pd.Timedelta(seconds=1))
    else:
        d_text = raw["date"].fillna("").astype(str)
        is_month = d_text.str.match(_MONTH_RE)
        start = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        if is_month.any():
            start[is_month] = pd.to_datetime(
                d_text[is_month].str.strip().str.replace("/", "-") + "-01", format="%Y-%m-%d", errors="coerce"
            )
        if (~is_month).any():
            start[~is_month] = _parse_datetimes(d_text[~is_month], src.date_format, src.dayfirst)
        has_time = d_text.str.contains(_TIME_RE)
        prec[~has_time] = "day"
        prec[is_month] = "month"
        end = start.copy()
        day = prec == "day"
        end[day] = start[day] + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        end[is_month] = start[is_month] + pd.offsets.MonthBegin(1) - pd.Timedelta(seconds=1)
    if src.time_precision != "auto":
        # a configured precision can only coarsen what the values show
        order = {"minute": 0, "day": 1, "month": 2}
        forced = order[src.time_precision]
        prec = prec.map(lambda p: p if order[p] >= forced else src.time_precision)
    return _localise(start, tz), _localise(end, tz), prec


def to_working_crs(raw: pd.DataFrame, xy_crs: str, crs: str = DEFAULT_CRS) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(x, y, reason) with coordinates in the working CRS ``crs`` (metres); reason set where unusable."""
    if "lon" in raw.columns and raw["lon"].notna().any() and xy_crs == "EPSG:4326" and "x" not in raw.columns:
        a_text, b_text = raw["lon"], raw["lat"]
    else:
        a_text, b_text = raw["x"], raw["y"]
    a_text = a_text.fillna("").astype(str).str.strip()
    b_text = b_text.fillna("").astype(str).str.strip()
    a, b = _float(a_text), _float(b_text)
    reason = pd.Series([""] * len(raw), index=raw.index, dtype=object)
    empty = (a_text == "") | (b_text == "")
    reason[empty] = "missing_coordinates"
    bad = ~empty & (a.isna() | b.isna() | ~np.isfinite(a) | ~np.isfinite(b))
    reason[bad] = "non_numeric_coordinates"
    x, y = a.copy(), b.copy()
    if not same_crs(xy_crs, crs):
        ok = reason == ""
        tr = Transformer.from_crs(xy_crs, crs, always_xy=True)
        xx, yy = tr.transform(a[ok].to_numpy(), b[ok].to_numpy())
        x[ok], y[ok] = xx, yy
    return x, y, reason


def police_uk_whole_metres(v: pd.Series) -> pd.Series:
    """police.uk coordinates (EPSG:27700 metres) rounded to the whole metre.

    police.uk's anonymous map points sit on whole metres of the British National
    Grid, but the files give them as longitude/latitude to 6 decimals, which
    carries a point back only to within about 6 cm (median 1.7 cm from the whole
    metre on Barnet's points, where an unrelated coordinate would be 25 cm away).
    Rounding restores the published point, so a point on a grid line is on it
    exactly and lands in the cell the binning rule says (:mod:`hotspots.geo.grid`),
    not on the side a reprojection residue happens to put it. Applied only when the
    working CRS is British National Grid (the CRS of the published points)."""
    return v.round(0)


def check_rows(
    raw: pd.DataFrame,
    xy_crs: str,
    src: IncidentSource,
    crime_map: dict[str, str],
    tz: str,
    now: pd.Timestamp,
    crs: str = DEFAULT_CRS,
) -> pd.DataFrame:
    """Add x, y (in the working CRS ``crs``), start, end, time_precision, crime_type and ``reason``/``detail``."""
    out = raw.copy()
    x, y, reason = to_working_crs(raw, xy_crs, crs)
    if src.format == "police_uk" and same_crs(crs, DEFAULT_CRS):
        x, y = police_uk_whole_metres(x), police_uk_whole_metres(y)
    detail = pd.Series([""] * len(raw), index=raw.index, dtype=object)
    detail[reason == "missing_coordinates"] = "coordinate cell is empty"
    detail[reason == "non_numeric_coordinates"] = "coordinate is not a number"
    start, end, prec = parse_times(raw, src, tz)
    free = reason == ""
    bad_date = free & (start.isna() | end.isna())
    reason[bad_date] = "bad_date"
    src_date = raw["start"] if "start" in raw.columns else raw["date"]
    detail[bad_date] = "unreadable date " + src_date[bad_date].astype(str).str.slice(0, 40).map(repr)
    free = reason == ""
    backwards = free & (end < start)
    reason[backwards] = "end_before_start"
    detail[backwards] = "end " + end[backwards].astype(str) + " is before start " + start[backwards].astype(str)
    free = reason == ""
    future = free & (start > now)
    reason[future] = "future_date"
    detail[future] = "start " + start[future].astype(str) + " is after the run time " + str(now)
    label = raw["crime_label"].fillna("").astype(str).str.strip()
    canon = label.str.lower().map(crime_map)
    free = reason == ""
    unmapped = free & canon.isna()
    reason[unmapped] = "unmapped_crime_type"
    detail[unmapped] = "label " + label[unmapped].map(repr) + " is not in the crime-type mapping"
    if src.crime_types:
        free = reason == ""
        excl = free & ~canon.isin(src.crime_types)
        reason[excl] = "excluded_crime_type"
        detail[excl] = canon[excl].astype(str) + " is not in this source's crime_types"
    out["x"], out["y"] = x, y
    out["start"], out["end"], out["time_precision"] = start, end, prec
    out["crime_type"] = canon
    out["offence"] = label
    out["reason"], out["detail"] = reason, detail
    return out


def assign_wards(rows: pd.DataFrame, wards: gpd.GeoDataFrame, tolerance_m: float) -> tuple[pd.Series, pd.Series]:
    """Ward code per row by point-in-polygon (the engine's own join, never a column of the input).

    ``rows`` x/y are in the CRS of ``wards``. Points outside every ward but within
    ``tolerance_m`` metres of one take the nearest ward; the rest get NaN and
    their distance (metres) in the second series.
    """
    pts = gpd.GeoDataFrame(
        {"_i": np.arange(len(rows))},
        geometry=gpd.points_from_xy(rows["x"].to_numpy(), rows["y"].to_numpy()),
        crs=wards.crs,
    )
    w = wards[["ward_code", "geometry"]].reset_index(drop=True)
    hit = gpd.sjoin(pts, w, how="left", predicate="intersects")
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    code = pd.Series(hit["ward_code"].to_numpy(), index=rows.index, dtype=object)
    dist = pd.Series(0.0, index=rows.index)
    miss = code.isna().to_numpy()
    if miss.any():
        near = gpd.sjoin_nearest(pts[miss], w, how="left", distance_col="_d")
        near = near[~near.index.duplicated(keep="first")]
        d = near["_d"].to_numpy()
        c = near["ward_code"].to_numpy().astype(object)
        ok = d <= tolerance_m
        c[~ok] = None
        code.iloc[np.nonzero(miss)[0]] = c
        dist.iloc[np.nonzero(miss)[0]] = d
    return code, dist
