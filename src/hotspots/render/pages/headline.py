"""The index's headline: counts per crime type now, in the period before and the same period last year."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...model import coarsest_precision
from ...stages.results import RunResults
from ...vocabulary import crime_type_label


def change(now: int, then: int) -> tuple[str, str]:
    """The change from ``then`` to ``now`` as a page shows it, and its CSS class ("up", "down" or ""):
    "+11%", "-5%", "no change", "new", or "0%" when the counts differ by less than half a percent (never "-0%",
    so the sign always agrees with the counts beside it)."""
    if then == 0:
        return ("new" if now else "no change"), ("up" if now else "")
    if now == then:
        return "no change", ""
    pct = round(100.0 * (now - then) / then)
    if pct == 0:
        return "0%", ""
    return f"{pct:+d}%", ("up" if pct > 0 else "down")


def periods(fim: pd.Timestamp, precision: str, days: int = 14) -> tuple[Any, Any, Any, str]:
    """(current, previous, same period last year) as (start, end) pairs, end exclusive.

    Fortnights before the FIM date for day/minute data; for month-precision data,
    the last whole calendar month before the FIM date.
    """
    if precision == "month":
        end = fim.normalize().replace(day=1)
        start = end - pd.DateOffset(months=1)
        prev = (start - pd.DateOffset(months=1), start)
        ly = (start - pd.DateOffset(years=1), end - pd.DateOffset(years=1))
        return (start, end), prev, ly, "month"
    cur = (fim - pd.Timedelta(days=days), fim)
    prev = (fim - pd.Timedelta(days=2 * days), fim - pd.Timedelta(days=days))
    ly = (cur[0] - pd.DateOffset(years=1), cur[1] - pd.DateOffset(years=1))
    return cur, prev, ly, "fortnight"


def _row(code: str, a: int, b: int, d: int) -> dict[str, Any]:
    pc, pcl = change(a, b)
    lc, lcl = change(a, d)
    return {
        "crime_type": code,
        "label": "All crime types" if code == "all" else crime_type_label(code),
        "current": a,
        "previous": b,
        "last_year": d,
        "prev_change": pc,
        "prev_class": pcl,
        "ly_change": lc,
        "ly_class": lcl,
    }


def headline(res: RunResults) -> dict[str, Any]:
    """Counts per crime type now, in the previous period and the same period last year: each row has the
    canonical ``crime_type`` (``"all"`` for the total, as the manifest records it) and its ``label`` in words."""
    inc = res.incidents
    prec = coarsest_precision(inc)
    cur, prev, ly, kind = periods(res.fim_date, prec, res.cfg.analysis.fortnight_days)
    mid = inc["start"] + (inc["end"] - inc["start"]) / 2

    def count(p):
        sel = (mid >= p[0]) & (mid < p[1])
        return inc.loc[sel, "crime_type"].value_counts(), float(inc.loc[sel, "harm"].sum())

    c, h = count(cur)
    p, _ = count(prev)
    y, _ = count(ly)
    types = sorted(set(c.index) | set(p.index) | set(y.index), key=lambda t: (-int(c.get(t, 0)), t))
    rows = [_row(t, int(c.get(t, 0)), int(p.get(t, 0)), int(y.get(t, 0))) for t in types]
    total = _row("all", int(c.sum()), int(p.sum()), int(y.sum()))
    total["harm"] = h

    def lab(q):
        e = q[1] - pd.Timedelta(days=1)
        return f"{q[0]:%d %b %Y} to {e:%d %b %Y}"

    has_ly = len(inc) and inc["start"].min() <= ly[0]
    return {
        "period_label": f"the {kind} to {cur[1] - pd.Timedelta(days=1):%d %b %Y}",
        "current_label": lab(cur),
        "previous_label": lab(prev),
        "last_year_label": lab(ly),
        "explain": (
            "Counts by the middle of each incident's time window. "
            + ("police.uk data give only the month, so the last whole month is compared. " if kind == "month" else "")
            + ("" if has_ly else "The data do not reach back a full year, so the last-year comparison is incomplete.")
        ),
        "rows": rows,
        "total": total,
        "periods": {
            "current": [str(cur[0]), str(cur[1])],
            "previous": [str(prev[0]), str(prev[1])],
            "last_year": [str(ly[0]), str(ly[1])],
        },
    }
