"""Short-term exceptions ("what changed since the last meeting") and seasonality.

Exceptions
----------
For every ward, every hotspot area (optional polygons) and the whole study
area, and for every crime type plus all crime together, the count in the
*current period* is compared with

* the previous period,
* the same period one year earlier (364 days earlier for day-precision data,
  so weekdays line up; the same calendar month for month data),
* the trailing average of the ``trailing_periods`` periods before the current one.

The period is ``period_days`` days ending at the FIM date (default the
fortnight, ``[analysis] fortnight_days``); for month-precision data (police.uk)
it is the last calendar month ended by the FIM date, and comparisons are
month to month. Each comparison is an exact conditional test of two Poisson
counts: given ``n = current + baseline``, the current count is
Binomial(n, e_cur / (e_cur + e_base)) under "no change", with ``e`` the
exposure in days (``scipy.stats.binomtest``, two-sided). A change is
*flagged* only when it is significant (p, or the Benjamini-Hochberg q-value
over the whole table when ``fdr = true``, below ``alpha``) and material (the
larger of the current count and the exposure-scaled baseline is at least
``min_count``, and the two differ by at least ``min_change`` incidents).

Seasonality
-----------
A monthly profile per crime type over all complete months available:
classical multiplicative decomposition of the daily rate per month (ratio to
a centred 2x12 moving average, averaged per calendar month, normalised to a
mean of 1) when at least 24 consecutive complete months exist, otherwise the
ratio of each calendar month's mean daily rate to the overall mean daily rate
(needs 12 complete months; flagged as less reliable because a trend is not
removed). The *coming period* (``period_days`` days from the FIM date) gets
the day-weighted mean of the month indices it spans and is called seasonally
*high* at or above ``seasonal_high`` (default 1.1), *low* at or below
``seasonal_low`` (default 0.9).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config.sections import ExceptionsConfig
from ..model import coarsest_precision, midpoint_times, resolve_timezone
from ..model import days_since_epoch as _days
from ..vocabulary import crime_type_label
from .binomial import binomtest_two_sided
from .fdr import bh_adjust

ALL = "all crime"


# --------------------------------------------------------------------------- helpers


def _fim(fim_date, tz: str) -> pd.Timestamp:
    ts = pd.Timestamp(fim_date)
    ts = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
    return ts.normalize()


def _local(naive: pd.Timestamp, tz: str) -> pd.Timestamp:
    return pd.Timestamp(naive).tz_localize(tz)


def poisson_change_test(current, baseline, e_current=1.0, e_baseline=1.0) -> np.ndarray:
    """Two-sided exact conditional test that two Poisson counts share one rate.

    Given ``n = current + baseline`` the current count is
    Binomial(n, e_current / (e_current + e_baseline)) under the null
    (``scipy.stats.binomtest``'s p-value, computed for all pairs at once by
    :func:`.binomial.binomtest_two_sided`). Vectorised over arrays; NaN where n = 0
    or a count is missing.
    """
    c = np.atleast_1d(np.asarray(current, dtype=float))
    b = np.atleast_1d(np.asarray(baseline, dtype=float))
    ec = np.broadcast_to(np.asarray(e_current, dtype=float), c.shape)
    eb = np.broadcast_to(np.asarray(e_baseline, dtype=float), c.shape)
    out = np.full(c.shape, np.nan)
    n = np.round(c + b)
    ok = np.isfinite(c) & np.isfinite(b) & (n > 0)
    out[ok] = binomtest_two_sided(np.round(c[ok]), n[ok], ec[ok] / (ec[ok] + eb[ok]))
    return out


@dataclass(frozen=True)
class Periods:
    """Current, previous, last-year and trailing windows (half-open, Europe/London)."""

    unit: str  # "month" or "N days"
    current: tuple[pd.Timestamp, pd.Timestamp]
    previous: tuple[pd.Timestamp, pd.Timestamp]
    last_year: tuple[pd.Timestamp, pd.Timestamp]
    trailing: tuple[pd.Timestamp, pd.Timestamp]
    n_trailing: int

    def describe(self) -> str:
        f = lambda w: f"{w[0].date()}..{(w[1] - pd.Timedelta(days=1)).date()}"  # noqa: E731
        return (
            f"current {f(self.current)}, previous {f(self.previous)}, last year {f(self.last_year)}, "
            f"trailing {self.n_trailing} periods {f(self.trailing)}"
        )


def plan_periods(fim_date, precision: str, cfg: ExceptionsConfig, timezone: str | None = None) -> Periods:
    """The windows compared, in ``timezone`` (default Europe/London)."""
    tz = resolve_timezone(timezone)
    fim = _fim(fim_date, tz)
    k = cfg.trailing_periods
    if precision == "month":
        end = fim.replace(day=1)
        m = lambda ts, n: _local(ts.tz_localize(None) - pd.DateOffset(months=n), tz)  # noqa: E731
        cur = (m(end, 1), end)
        prev = (m(end, 2), m(end, 1))
        ly = (m(end, 13), m(end, 12))
        tr = (m(end, 1 + k), m(end, 1))
        return Periods("month", cur, prev, ly, tr, k)
    d = cfg.period_days or 14
    naive = fim.tz_localize(None)
    back = lambda n: _local(naive - pd.Timedelta(days=n), tz)  # noqa: E731
    cur = (back(d), fim)
    prev = (back(2 * d), back(d))
    ly = (back(364 + d), back(364))
    tr = (back((1 + k) * d), back(d))
    return Periods(f"{d} days", cur, prev, ly, tr, k)


def _exposure(w) -> float:
    """Length of a window in calendar days (a clock change does not alter it)."""
    return (w[1].tz_localize(None) - w[0].tz_localize(None)).total_seconds() / 86400.0


# --------------------------------------------------------------------------- exceptions
def _units(incidents, wards, areas, cfg) -> list[tuple[str, str, str, np.ndarray]]:
    """(unit_type, unit_id, unit_name, boolean membership) for each reporting unit."""
    units = []
    n = len(incidents)
    if cfg.include_study_area:
        units.append(("study area", "all", "whole study area", np.ones(n, dtype=bool)))
    if "ward_code" in incidents:
        codes = incidents["ward_code"].astype("string").fillna("")
        names = {}
        if wards is not None and len(wards):
            names = dict(zip(wards["ward_code"].astype(str), wards["ward_name"].astype(str), strict=True))
            order = list(wards["ward_code"].astype(str))
        else:
            order = sorted(c for c in codes.unique() if c)
        cv = codes.to_numpy()
        for code in order:
            units.append(("ward", code, names.get(code, code), cv == code))
    if areas is not None and len(areas):
        crs = incidents.crs if isinstance(incidents, gpd.GeoDataFrame) else None
        a = (
            areas.to_crs(crs)
            if isinstance(areas, gpd.GeoDataFrame) and areas.crs is not None and crs is not None
            else areas
        )
        pts = shapely.points(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float))
        ids = a["area_id"].astype(str).to_numpy() if "area_id" in a else np.arange(len(a)).astype(str)
        nm = (
            a["name"].astype(str).to_numpy()
            if "name" in a
            else np.char.add(a["label"].astype(str).to_numpy().astype(str), np.char.add(" ", ids.astype(str)))
            if "label" in a
            else ids
        )
        for aid, name, geom in zip(ids, nm, a.geometry, strict=True):
            shapely.prepare(geom)
            units.append(("hotspot area", aid, name, shapely.covers(geom, pts)))
    return units


def short_term_exceptions(
    incidents, fim_date, config: ExceptionsConfig | None = None, wards=None, areas=None, timezone: str | None = None
) -> pd.DataFrame:
    """The "what changed since the last meeting" table.

    One row per (unit, crime type) with any incident in the windows compared:
    ``unit_type, unit_id, unit_name, crime_type, period, current, previous,
    last_year, trailing_mean``, per comparison the p-value, q-value (BH over
    the table), ``change_*`` (current minus exposure-scaled baseline) and a
    ``flag`` ("up"/"down"/"") with a one-sentence ``reason``. Rows are sorted
    flagged first, largest absolute change first. Windows are calendar days in
    ``timezone`` (default Europe/London).
    """
    cfg = config or ExceptionsConfig()
    tz = resolve_timezone(timezone)
    inc = incidents
    if cfg.crime_types:
        inc = inc[inc["crime_type"].isin(cfg.crime_types)]
    precision = coarsest_precision(inc) if len(inc) else "day"
    per = plan_periods(fim_date, precision, cfg, tz)
    t = midpoint_times(inc) if len(inc) else np.zeros(0)
    data_start = float(_days(inc["start"]).min()) if len(inc) else np.inf

    def in_w(w):
        a, b = _days([w[0]])[0], _days([w[1]])[0]
        return (t >= a) & (t < b), a >= data_start - 1e-9

    windows = {"current": per.current, "previous": per.previous, "last_year": per.last_year, "trailing": per.trailing}
    masks, covered = {}, {}
    for k, w in windows.items():
        masks[k], covered[k] = in_w(w)
    types = sorted(inc["crime_type"].dropna().unique()) if len(inc) else []
    type_sets = [(ct, (inc["crime_type"] == ct).to_numpy()) for ct in types]
    if cfg.include_all_crime:
        type_sets.insert(0, (ALL, np.ones(len(inc), dtype=bool)))
    rows = []
    for utype, uid, uname, um in _units(inc, wards, areas, cfg):
        for ct, cm in type_sets:
            sel = um & cm
            cnt = {k: int((sel & m).sum()) for k, m in masks.items()}
            if sum(cnt.values()) == 0:
                continue
            rows.append(
                {
                    "unit_type": utype,
                    "unit_id": uid,
                    "unit_name": uname,
                    "crime_type": ct,
                    "current": cnt["current"],
                    "previous": cnt["previous"] if covered["previous"] else np.nan,
                    "last_year": cnt["last_year"] if covered["last_year"] else np.nan,
                    "trailing_total": cnt["trailing"] if covered["trailing"] else np.nan,
                }
            )
    cols = [
        "unit_type",
        "unit_id",
        "unit_name",
        "crime_type",
        "period",
        "period_start",
        "period_end",
        "current",
        "previous",
        "last_year",
        "trailing_mean",
    ]
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=[*cols, "flag", "reason"])
    df["period"] = per.unit
    df["period_start"] = per.current[0].date().isoformat()
    df["period_end"] = (per.current[1] - pd.Timedelta(days=1)).date().isoformat()
    e_cur = _exposure(per.current)
    comps = {
        "previous": (df["previous"], _exposure(per.previous)),
        "last_year": (df["last_year"], _exposure(per.last_year)),
        "trailing": (df["trailing_total"], _exposure(per.trailing)),
    }
    df["trailing_mean"] = df["trailing_total"] / per.n_trailing
    for name, (base, e_b) in comps.items():
        df[f"p_{name}"] = poisson_change_test(df["current"], base, e_cur, e_b)
        df[f"change_{name}"] = df["current"] - base * (e_cur / e_b)
    pcols = [f"p_{n}" for n in comps]
    q = bh_adjust(df[pcols].to_numpy())
    for j, n in enumerate(comps):
        df[f"q_{n}"] = q[:, j]
    test_col = "q" if cfg.fdr else "p"
    label = {
        "previous": f"the previous {_unit_word(per.unit)}",
        "last_year": f"the same {_unit_word(per.unit)} last year",
        "trailing": f"the average of the previous {per.n_trailing} {_unit_word(per.unit)}s",
    }
    exposures = {n: e_b for n, (_b, e_b) in comps.items()}
    flagged = [_flag(r, exposures, e_cur, cfg, test_col, label) for _, r in df.iterrows()]
    df["flag"] = [f for f, _ in flagged]
    df["reason"] = [why for _, why in flagged]
    df["_abs"] = df[[f"change_{n}" for n in comps]].abs().max(axis=1)
    df["_f"] = df["flag"] != ""
    df = df.sort_values(["_f", "_abs"], ascending=[False, False]).drop(columns=["_abs", "_f"])
    return df.reset_index(drop=True)


def _flag(
    r: pd.Series, exposures: dict[str, float], e_cur: float, cfg: ExceptionsConfig, test_col: str, label: dict[str, str]
) -> tuple[str, str]:
    """("up" / "down" / "", reason) of one table row: the comparison with the smallest p among those
    significant (``test_col`` p or q below ``cfg.alpha``) and material (at least ``cfg.min_count``
    on one side and ``cfg.min_change`` apart), against its exposure-scaled baseline."""
    best = None
    for n, e_b in exposures.items():
        base = r[{"previous": "previous", "last_year": "last_year", "trailing": "trailing_total"}[n]]
        if not np.isfinite(base):
            continue
        exp_b = base * e_cur / e_b
        sig = r[f"{test_col}_{n}"] < cfg.alpha
        material = max(r["current"], exp_b) >= cfg.min_count and abs(r["current"] - exp_b) >= cfg.min_change
        if sig and material and (best is None or r[f"p_{n}"] < best[1]):
            best = (n, r[f"p_{n}"], exp_b)
    if best is None:
        return "", ""
    n, _p, exp_b = best
    direction = "up" if r["current"] > exp_b else "down"
    return direction, (
        f"{crime_type_label(str(r['crime_type']))} in {r['unit_name']} {direction} to {int(r['current']):,} "
        f"from {_about(exp_b)} in {label[n]} ({test_col} = {r[f'{test_col}_{n}']:.2g})."
    )


def _about(expected: float) -> str:
    """A baseline count in words: "31" when whole, "about 16" when scaled to a period of another length."""
    whole = round(expected)
    return f"{whole:,}" if abs(expected - whole) < 0.05 else f"about {whole:,}"


def _unit_word(unit: str) -> str:
    if unit == "month":
        return "month"
    d = int(unit.split()[0])
    return {14: "fortnight", 7: "week"}.get(d, f"{d}-day period")


# --------------------------------------------------------------------------- seasonality
@dataclass(frozen=True, eq=False)
class SeasonalityResult:
    """Monthly seasonal indices per crime type and the outlook for the coming period.

    ``profile``: ``crime_type, month (1-12), index, n_years, method``.
    ``outlook``: ``crime_type, coming_start, coming_end, index, status, method``.
    """

    profile: pd.DataFrame
    outlook: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def index_table(self) -> pd.DataFrame:
        """Crime types x months (1..12) table of indices."""
        if self.profile.empty:
            return pd.DataFrame()
        return self.profile.pivot(index="crime_type", columns="month", values="index")


def monthly_rates(incidents, crime_type: str | None = None, timezone: str | None = None) -> pd.Series:
    """Daily incident rate of each complete calendar month covered by the data
    (index: month Period), from the incidents' midpoints in ``timezone`` (default Europe/London)."""
    inc = incidents if crime_type in (None, ALL) else incidents[incidents["crime_type"] == crime_type]
    if len(incidents) == 0:
        return pd.Series(dtype=float)
    tz = resolve_timezone(timezone)
    d0 = pd.Timestamp(incidents["start"].min()).tz_convert(tz)
    d1 = pd.Timestamp(incidents["end"].max()).tz_convert(tz)
    first = pd.Period(d0.tz_localize(None), "M")
    if d0.tz_localize(None) > first.start_time:
        first += 1
    last = pd.Period(d1.tz_localize(None), "M")
    if d1.tz_localize(None) < last.end_time.floor("D"):
        last -= 1
    months = pd.period_range(first, last, freq="M")
    if len(months) == 0:
        return pd.Series(dtype=float)
    mid = pd.to_datetime(midpoint_times(inc) * 86400e9, utc=True).tz_convert(tz).tz_localize(None)
    per = pd.PeriodIndex(mid, freq="M") if len(inc) else pd.PeriodIndex([], freq="M")
    counts = pd.Series(1, index=per).groupby(level=0).sum().reindex(months, fill_value=0)
    return counts / months.days_in_month.to_numpy()


def seasonal_index(rates: pd.Series) -> tuple[np.ndarray, np.ndarray, str]:
    """Monthly indices (length 12, Jan..Dec, mean 1), years of data per month, method.

    Classical multiplicative decomposition (ratio to the centred 2x12 moving
    average) when >= 24 months, else ratio to the overall mean (>= 12 months);
    NaNs when fewer than 12 months.
    """
    n = len(rates)
    months = np.asarray([p.month for p in rates.index])
    if n >= 24:
        v = rates.to_numpy(float)
        kernel = np.r_[0.5, np.ones(11), 0.5] / 12.0
        ma = np.full(n, np.nan)
        ma[6 : n - 6] = np.convolve(v, kernel, mode="valid")
        ratio = np.divide(v, ma, out=np.full(n, np.nan), where=ma > 0)  # NaN at the ends and for empty years
        method = "ratio to centred 12-month moving average"
    elif n >= 12:
        v = rates.to_numpy(float)
        ratio = v / v.mean() if v.mean() > 0 else np.full(n, np.nan)
        method = "ratio to overall mean (under 24 months: trend not removed)"
    else:
        return np.full(12, np.nan), np.zeros(12, dtype=int), "not enough months (need 12)"
    idx = np.full(12, np.nan)
    ny = np.zeros(12, dtype=int)
    for m in range(1, 13):
        r = ratio[(months == m) & np.isfinite(ratio)]
        ny[m - 1] = r.size
        if r.size:
            idx[m - 1] = r.mean()
    if np.isfinite(idx).all() and idx.mean() > 0:
        idx = idx / idx.mean()
    return idx, ny, method


def seasonality(
    incidents, fim_date, config: ExceptionsConfig | None = None, timezone: str | None = None
) -> SeasonalityResult:
    """Monthly seasonal profile per crime type and whether the coming period is seasonally high
    (calendar months in ``timezone``, default Europe/London)."""
    cfg = config or ExceptionsConfig()
    tz = resolve_timezone(timezone)
    inc = incidents
    if cfg.crime_types:
        inc = inc[inc["crime_type"].isin(cfg.crime_types)]
    fim = _fim(fim_date, tz)
    d = cfg.period_days or 14
    days = pd.date_range(fim.tz_localize(None), periods=d, freq="D")
    coming_month_weights = np.bincount(days.month.to_numpy() - 1, minlength=12) / d
    types = ([ALL] if cfg.include_all_crime else []) + (sorted(inc["crime_type"].dropna().unique()) if len(inc) else [])
    prof, outl, notes = [], [], []
    for ct in types:
        rates = monthly_rates(inc, ct, tz)
        idx, ny, method = seasonal_index(rates)
        for m in range(12):
            prof.append({"crime_type": ct, "month": m + 1, "index": idx[m], "n_years": int(ny[m]), "method": method})
        ok = np.isfinite(idx)
        if ok.all():
            ci = float((idx * coming_month_weights).sum())
            status = "high" if ci >= cfg.seasonal_high else ("low" if ci <= cfg.seasonal_low else "normal")
        else:
            ci, status = np.nan, "unknown"
        outl.append(
            {
                "crime_type": ct,
                "coming_start": days[0].date().isoformat(),
                "coming_end": days[-1].date().isoformat(),
                "index": ci,
                "status": status,
                "months_of_data": len(rates),
                "method": method,
            }
        )
    outlook = pd.DataFrame(outl)
    if not outlook.empty:
        high = outlook.loc[outlook["status"] == "high", "crime_type"].tolist()
        notes.append(
            f"seasonal outlook for {days[0].date()}..{days[-1].date()}: seasonally high for "
            f"{', '.join(high) if high else 'no crime type'} (index >= {cfg.seasonal_high})"
        )
    return SeasonalityResult(profile=pd.DataFrame(prof), outlook=outlook, notes=tuple(notes))
