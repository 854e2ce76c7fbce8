"""The index's forecast section: the method used in plain words, the selection procedure's own
out-of-sample record in a sentence and a small chart (chosen method against last year's counts, date by
date), and the methods compared, as percentages with plain headings.

The chart is an inline SVG drawn from numbers only (no text from the data), so the page stays one
deterministic file that works offline and prints."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from ...forecast import metrics
from ...forecast.outlook import ForecastResult
from ...stages.results import RunResults
from ...vocabulary import forecast_method_label
from .common import day

#: The chart's size in CSS pixels (it scales down to the page's width) and its margins.
CHART_W, CHART_H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 12, 40

PAI_WORDS = (
    "PAI (predictive accuracy index) = share of the crimes caught divided by share of the map flagged: 1 is no "
    "better than picking squares at random, 3 means the flagged squares catch three times their share."
)


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%" if np.isfinite(v) else "not known"


def _horizon_words(fc: ForecastResult) -> str:
    """ "fortnight" for 14 days, else the horizon's own label ("1 month", "28 days")."""
    label = fc.horizon.label
    return "fortnight" if label == "14 days" else "month" if label == "1 month" else label


def track_record_chart(record: pd.DataFrame, baseline_name: str) -> dict[str, Any] | None:
    """The chart's geometry from a track record (``origin``, ``hit_rate``, ``baseline``): polyline points
    for the chosen method and for the baseline, the y-axis ticks (percent) and a few x labels (dates).
    Coordinates are rounded to 0.1 px so the same record gives the same bytes."""
    rec = record.dropna(subset=["hit_rate", "baseline"])
    if len(rec) < 2:
        return None
    n = len(rec)
    top = max(float(rec["hit_rate"].max()), float(rec["baseline"].max()), 0.01)
    step = 0.05 if top <= 0.3 else 0.1
    ymax = step * np.ceil(top / step)
    w, h = CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM

    def xy(i: int, v: float) -> str:
        return f"{LEFT + w * i / (n - 1):.1f},{TOP + h * (1 - v / ymax):.1f}"

    ticks = [
        {"y": f"{TOP + h * (1 - t / ymax):.1f}", "label": f"{100 * t:.0f}%"} for t in np.arange(0, ymax + 1e-9, step)
    ]
    every = max(1, int(np.ceil(n / 6)))
    origins = [pd.Timestamp(o) for o in rec["origin"]]
    monthly = all((b - a).days >= 28 for a, b in itertools.pairwise(origins))
    fmt = "%b %Y" if monthly else "%d %b %Y"
    xlabels = [
        {"x": f"{LEFT + w * i / (n - 1):.1f}", "label": o.strftime(fmt).lstrip("0")}
        for i, o in enumerate(origins)
        if i % every == 0 or i == n - 1
    ]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "left": LEFT,
        "right": CHART_W - RIGHT,
        "top": TOP,
        "bottom": CHART_H - BOTTOM,
        "chosen": " ".join(xy(i, v) for i, v in enumerate(rec["hit_rate"])),
        "baseline": " ".join(xy(i, v) for i, v in enumerate(rec["baseline"])),
        "ticks": ticks,
        "xlabels": xlabels,
        "xlabel_y": CHART_H - BOTTOM + 16,
        "baseline_name": baseline_name,
        "n": n,
    }


def _methods_table(fc: ForecastResult, horizon: str) -> dict[str, Any] | None:
    """Every method compared, with plain headings and percentages (mean over the backtest's dates)."""
    df = fc.summary_frame()
    if not len(df):
        return None
    keys = [metrics.share_key(s) for s in fc.shares]
    chosen = fc.selection.members if fc.selection is not None else (fc.method,)
    columns = ["Method", "Forecast dates tested"]
    columns += [f"Top {k}% of the map: share of the next {horizon}'s crimes" for k in keys]
    columns += [f"PAI, top {k}%" for k in keys]
    rows = []
    for r in df.to_dict("records"):
        row = [forecast_method_label(str(r["method"])), f"{int(r['origins']):,}"]
        row += [_pct(float(r.get(f"hit_rate_{k}", np.nan))) for k in keys]
        row += [f"{float(r.get(f'pai_{k}', np.nan)):.1f}" for k in keys]
        rows.append({"cells": row, "chosen": str(r["method"]) in chosen})
    return {"columns": columns, "rows": rows}


def forecast(res: RunResults) -> dict[str, Any] | None:
    """The forecast section's values, or None when the forecast stage did not run."""
    fc = res.forecast
    if fc is None:
        return None
    horizon = _horizon_words(fc)
    method = forecast_method_label(fc.method)
    why = {
        "backtest": "chosen by its track record on this area's own data",
        "configured": "as set in the configuration",
    }.get(fc.selected_by, "by default: too little history to compare methods")
    out: dict[str, Any] = {
        "method": method,
        "why": why,
        "period": f"{day(fc.origin)} to {day(fc.horizon_end - pd.Timedelta(days=1))}",
        "record": "",
        "chart": None,
        "table": _methods_table(fc, horizon),
        "pai_words": PAI_WORDS,
        "notes": list(fc.notes),
    }
    sel = fc.selection
    if sel is not None and len(sel.record.table):
        rec = sel.record
        k = metrics.share_key(rec.rule.share)
        base = forecast_method_label(rec.baseline).lower()
        n = len(rec.table)
        dates = f"at each of the last {n} forecast dates" if n > 1 else "at the last forecast date"
        out["record"] = (
            f"Track record, out of sample: {dates} the method was chosen exactly as today, from what was known "
            f"before that date only. The forecast's top {k}% of the map then held {_pct(rec.achieved)} of the next "
            f"{horizon}'s crimes on average; {base} held "
            f"{_pct(rec.baseline_mean)}, and the best any map could have done was {_pct(rec.ceiling_mean)}."
        )
        out["chart"] = track_record_chart(rec.table, forecast_method_label(rec.baseline))
        out["share"] = k
    elif fc.figures and fc.selected_by == "configured":
        out["record"] = fc.describe()
    return out
