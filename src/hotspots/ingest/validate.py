"""Validation: raw rows -> canonical incidents (working CRS, metres) or quarantine.

Each row ends in exactly one of the two tables. A quarantined row carries the
first reason it failed (:data:`REASONS`), a detail sentence, its source file
and row number and its original values, so ``accepted + quarantined = read``
always holds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pyproj import Transformer

from ..config.sections import IncidentSource
from ..crs import DEFAULT_CRS, parse_crs, same_crs
from .dates import EARLIEST_DATE, day_month_order, is_month, localise, parse_datetimes, precision_of

#: Quarantine reason codes, in the order rows are checked.
REASONS = {
    "malformed_row": "the row has more or fewer fields than the header",
    "missing_coordinates": "no x/y (or longitude/latitude) value",
    "non_numeric_coordinates": "x/y (or longitude/latitude) is not a number",
    "impossible_coordinates": "x/y (or longitude/latitude) is outside the range any place can have",
    "bad_date": "date could not be read",
    "implausible_date": f"date is before {EARLIEST_DATE}",
    "end_before_start": "end date-time is before the start",
    "future_date": "start or end date is in the future",
    "unmapped_crime_type": "crime type label is not in the crime-type mapping",
    "excluded_crime_type": "crime type is not one of the source's configured crime_types",
    "outside_study_area": "point is outside the study area by more than the tolerance",
    "duplicate_id": "the incident id repeats an earlier row's id",
}

#: Largest absolute projected coordinate accepted (metres or feet): about 2.5 times the Earth's circumference.
MAX_PROJECTED_COORDINATE = 1e8


def _float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.strip(), errors="coerce")


def _mark(
    reason: pd.Series, detail: pd.Series, mask: pd.Series, code: str, text: Callable[[pd.Series], pd.Series] | str
) -> None:
    """Give rows in ``mask`` that have no reason yet the reason ``code`` and the detail ``text`` (in place).

    ``text`` is a sentence, or a function of the rows' mask giving one sentence per marked row
    (computed only for the rows marked).
    """
    free = mask & (reason == "")
    if not free.any():
        return
    reason[free] = code
    detail[free] = text if isinstance(text, str) else text(free)


def to_working_crs(raw: pd.DataFrame, xy_crs: str, crs: str = DEFAULT_CRS) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(x, y, reason) with coordinates in the working CRS ``crs`` (metres); reason set where unusable.

    Longitude must lie in -180..180 and latitude in -90..90; projected values
    beyond :data:`MAX_PROJECTED_COORDINATE` or that cannot be projected are
    ``impossible_coordinates``.
    """
    x, y, reason, _detail = _coordinates(raw, xy_crs, crs)
    return x, y, reason


def _coordinates(raw: pd.DataFrame, xy_crs: str, crs: str) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    lonlat = "lon" in raw.columns and raw["lon"].notna().any() and "x" not in raw.columns
    a_col, b_col = ("lon", "lat") if lonlat else ("x", "y")
    a_text = raw[a_col].fillna("").astype(str).str.strip()
    b_text = raw[b_col].fillna("").astype(str).str.strip()
    a, b = _float(a_text), _float(b_text)
    reason = pd.Series("", index=raw.index, dtype=object)
    detail = pd.Series("", index=raw.index, dtype=object)
    _mark(reason, detail, (a_text == "") | (b_text == ""), "missing_coordinates", "coordinate cell is empty")
    bad = a.isna() | b.isna()

    def shown(m: pd.Series) -> pd.Series:
        return "coordinate " + a_text[m].str.slice(0, 30).map(repr) + ", " + b_text[m].str.slice(0, 30).map(repr)

    _mark(reason, detail, bad, "non_numeric_coordinates", lambda m: shown(m) + " is not a number")
    _mark(
        reason,
        detail,
        ~np.isfinite(a) | ~np.isfinite(b),
        "impossible_coordinates",
        lambda m: shown(m) + " is not finite",
    )
    src = parse_crs(xy_crs)
    if src is not None and src.is_geographic:
        out = (a.abs() > 180) | (b.abs() > 90)
        _mark(
            reason,
            detail,
            out,
            "impossible_coordinates",
            lambda m: shown(m) + " is outside longitude -180..180, latitude -90..90",
        )
    else:
        out = (a.abs() > MAX_PROJECTED_COORDINATE) | (b.abs() > MAX_PROJECTED_COORDINATE)
        _mark(
            reason,
            detail,
            out,
            "impossible_coordinates",
            lambda m: shown(m) + f" is beyond any place on Earth in {xy_crs}",
        )
    x, y = a.copy(), b.copy()
    if not same_crs(xy_crs, crs):
        ok = reason == ""
        tr = Transformer.from_crs(xy_crs, crs, always_xy=True)
        xx, yy = tr.transform(a[ok].to_numpy(), b[ok].to_numpy())
        x[ok], y[ok] = xx, yy
        lost = ok & (~np.isfinite(x) | ~np.isfinite(y))
        _mark(reason, detail, lost, "impossible_coordinates", lambda m: shown(m) + " cannot be projected")
    return x, y, reason, detail


def _wall_end(start: pd.Series, precision: pd.Series, tz: str) -> pd.Series:
    """The last second of the day or month a day- or month-precision ``start`` falls in (local wall clock)."""
    out = start.copy()
    for kind, step in (("day", pd.DateOffset(days=1)), ("month", pd.offsets.MonthBegin(1))):
        m = (precision == kind) & start.notna()
        if m.any():
            wall = start[m].dt.tz_localize(None) + step - pd.Timedelta(seconds=1)
            out[m] = wall.dt.tz_localize(tz, ambiguous=np.zeros(int(m.sum()), dtype=bool), nonexistent="shift_forward")
    return out


def _period_start(times: pd.Series, precision: str, tz: str) -> pd.Series:
    """The local midnight starting the day, or the first instant of the month (``precision``), of each time."""
    wall = times.dt.tz_localize(None)
    wall = wall.dt.to_period("M").dt.start_time if precision == "month" else wall.dt.normalize()
    return localise(wall.dt.as_unit("us"), tz)


def parse_times(raw: pd.DataFrame, src: IncidentSource, tz: str) -> tuple[pd.Series, pd.Series, pd.Series, list[str]]:
    """(start, end, time_precision, notes) per row; NaT where unreadable.

    ``date`` values like ``2016-01`` are whole months (start = first instant,
    end = last second of the month); dates without a time of day are whole days;
    anything with hours and minutes has minute precision. Numeric dates are read
    in the day/month order of their file (:func:`~hotspots.ingest.dates.day_month_order`);
    police.uk's ``Month`` must be ``YYYY-MM``.
    """
    start = pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[us, {tz}]")
    end = start.copy()
    prec = pd.Series("minute", index=raw.index, dtype=object)
    notes: list[str] = []
    ranged = "start" in raw.columns
    s_text = (raw["start"] if ranged else raw["date"]).fillna("").astype(str)
    e_text = raw["end"].fillna("").astype(str) if ranged else s_text
    e_text = e_text.where(e_text.str.strip() != "", s_text)
    for f, idx in raw.groupby("source_file", sort=False).groups.items():
        s_f, e_f = s_text[idx], e_text[idx]
        if src.format == "police_uk":
            month_ok = is_month(s_f)
            s_f = s_f.where(month_ok, "")
            e_f = s_f
            order = None
        elif src.date_format:
            order = None
        else:
            cols = {src.columns.start or src.columns.date or "date": s_f}
            if ranged and src.columns.end:
                cols[src.columns.end] = raw.loc[idx, "end"].fillna("").astype(str)
            decided = day_month_order(cols, raw.loc[idx, "source_row"], str(f), src.dayfirst)
            order = decided.dayfirst
            if decided.note:
                notes.append(decided.note)
        start[idx] = parse_datetimes(s_f, tz, date_format=src.date_format, dayfirst=order)
        if e_f is s_f:  # police.uk: one month per row, its start and end read from the same text
            end[idx] = start[idx]
        else:
            end[idx] = parse_datetimes(e_f, tz, date_format=src.date_format, dayfirst=order)
        prec[idx] = precision_of(s_f, src.date_format)
    if src.time_precision != "auto":  # a configured precision can only coarsen what the values show
        rank = {"minute": 0, "day": 1, "month": 2}
        coarser = prec.map(rank) < rank[src.time_precision]
        if coarser.any():
            start[coarser] = _period_start(start[coarser], src.time_precision, tz)
            end[coarser] = _period_start(end[coarser], src.time_precision, tz)
            prec[coarser] = src.time_precision
    end = _wall_end(end, prec, tz)
    return start, end, prec, notes


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
) -> tuple[pd.DataFrame, list[str]]:
    """Add x, y (in the working CRS ``crs``), start, end, time_precision, crime_type and ``reason``/``detail``;
    returns the rows and notes on what was decided (e.g. the day/month order)."""
    out = raw.copy()
    malformed = raw["_malformed"].fillna("").astype(str) if "_malformed" in raw.columns else None
    x, y, reason, detail = _coordinates(raw, xy_crs, crs)
    if src.format == "police_uk" and same_crs(crs, DEFAULT_CRS):
        x, y = police_uk_whole_metres(x), police_uk_whole_metres(y)
    if malformed is not None:
        bad = malformed != ""
        reason[bad] = "malformed_row"
        detail[bad] = malformed[bad]
    start, end, prec, notes = parse_times(raw, src, tz)
    src_date = (raw["start"] if "start" in raw.columns else raw["date"]).fillna("").astype(str)
    what = "Month" if src.format == "police_uk" else "date"
    expect = " (police.uk months are YYYY-MM)" if src.format == "police_uk" else ""
    _mark(
        reason,
        detail,
        start.isna() | end.isna(),
        "bad_date",
        lambda m: f"unreadable {what} " + src_date[m].str.slice(0, 40).map(repr) + expect,
    )
    earliest = pd.Timestamp(EARLIEST_DATE).tz_localize(tz)
    _mark(
        reason,
        detail,
        start < earliest,
        "implausible_date",
        lambda m: "start " + start[m].astype(str) + f" is before {EARLIEST_DATE}; check the year",
    )
    _mark(
        reason,
        detail,
        end < start,
        "end_before_start",
        lambda m: "end " + end[m].astype(str) + " is before start " + start[m].astype(str),
    )
    _mark(
        reason,
        detail,
        start > now,
        "future_date",
        lambda m: "start " + start[m].astype(str) + f" is after the run time {now}",
    )
    _mark(
        reason,
        detail,
        end > now,
        "future_date",
        lambda m: "end " + end[m].astype(str) + f" is after the run time {now} (the incident is not over yet)",
    )
    label = raw["crime_label"].fillna("").astype(str).str.strip()
    if src.crime_type:
        canon = pd.Series(src.crime_type, index=raw.index, dtype=object)
    else:
        canon = label.str.lower().map(crime_map)
    _mark(
        reason,
        detail,
        canon.isna(),
        "unmapped_crime_type",
        lambda m: "label " + label[m].str.slice(0, 60).map(repr) + " is not in the crime-type mapping",
    )
    if src.crime_types:
        _mark(
            reason,
            detail,
            ~canon.isin(src.crime_types),
            "excluded_crime_type",
            lambda m: canon[m].astype(str) + " is not in this source's crime_types",
        )
    quarantined = reason != ""
    out["x"], out["y"] = x.where(~quarantined), y.where(~quarantined)
    out["start"], out["end"], out["time_precision"] = start.where(~quarantined), end.where(~quarantined), prec
    out["crime_type"] = canon
    out["offence"] = label
    out["reason"], out["detail"] = reason, detail
    return out, notes


def assign_wards(rows: pd.DataFrame, wards, tolerance_m: float) -> tuple[pd.Series, pd.Series]:
    """Ward code per row by point-in-polygon (the engine's own join, never a column of the input).

    ``rows`` x/y are in the CRS of ``wards``. Points outside every ward but within
    ``tolerance_m`` metres of one take the nearest ward; the rest get NaN and
    their distance (metres) in the second series. A point in two overlapping
    wards takes the ward that comes first in ``wards`` (sorted by code).
    """
    # each distinct location is joined once (police.uk data repeat a few thousand snap points)
    xy = np.ascontiguousarray(np.column_stack([rows["x"].to_numpy(float), rows["y"].to_numpy(float)]))
    _, first, inverse = np.unique(xy.view(np.dtype((np.void, 16))).ravel(), return_index=True, return_inverse=True)
    code, dist = _wards_of_points(xy[first], wards, tolerance_m)
    return (
        pd.Series(code[inverse.ravel()], index=rows.index, dtype=object),
        pd.Series(dist[inverse.ravel()], index=rows.index),
    )


def _wards_of_points(xy: np.ndarray, wards, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Ward code (object; None when none) and distance in metres to it (0 inside) of each point ``xy``."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"_i": np.arange(len(xy))},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=wards.crs,
    )
    w = wards[["ward_code", "geometry"]].reset_index(drop=True)
    hit = gpd.sjoin(pts, w, how="left", predicate="intersects")
    hit = hit.sort_values("index_right", kind="stable")
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    code = hit["ward_code"].to_numpy().astype(object)
    dist = np.zeros(len(xy))
    miss = pd.isna(code)
    if miss.any():
        near = gpd.sjoin_nearest(pts[miss], w, how="left", distance_col="_d")
        near = near.sort_values("index_right", kind="stable")
        near = near[~near.index.duplicated(keep="first")].sort_index()
        d = near["_d"].to_numpy()
        c = near["ward_code"].to_numpy().astype(object)
        ok = d <= tolerance_m
        c[~ok] = None
        code[np.nonzero(miss)[0]] = c
        dist[np.nonzero(miss)[0]] = d
    return code, dist
