"""What changed since the last meeting, and whether the last tasking worked, per place, in plain words.

*Change*: a continuing place's incidents and harm against the last list's
figures (both over their own analysis windows); a closed place's incidents now
inside its area against what it had.

*Did it work*: for each place of the last list that this list continues or
closes, harm inside the last list's polygon in the tasking period (from the last
meeting to this one) against the same number of days before it, and the
Weighted Displacement Difference test of its incidents against the rest of the
study area, allowing for displacement into a 200 m buffer
(:func:`hotspots.analysis.evaluate.evaluate_intervention`, Wheeler & Ratcliffe
2018). This needs incidents dated to the day: with police.uk month data a
fortnight's change cannot be seen, and the column is left out with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..model import coarsest_precision, local_midnight, midpoint_times
from ..stages.results import RunResults

#: Buffer (metres) around a place in which displaced crime is looked for (the WDD's displacement zone).
DISPLACEMENT_BUFFER_M = 200.0


def _signed(n: float) -> str:
    return f"{n:+,.0f}".replace("+", "up ").replace("-", "down ")


def change_words(
    incidents: float, harm: float, prev_incidents: float, prev_harm: float, harm_unit: str, count_scheme: bool
) -> str:
    """ "812 incidents, up 61 from 751 at the last FIM" (and the harm, unless harm is a plain count); the
    parts whose previous figure is unknown (NaN) are left out."""
    parts = []
    if np.isfinite(prev_incidents):
        d = incidents - prev_incidents
        parts.append(
            f"{incidents:,.0f} incidents, "
            + (f"{_signed(d)} from {prev_incidents:,.0f}" if d else "the same as")
            + " at the last FIM"
        )
    if np.isfinite(prev_harm) and not (count_scheme and parts):
        d = harm - prev_harm
        parts.append(
            f"harm {harm:,.0f} ({harm_unit}), " + (f"{_signed(d)} from {prev_harm:,.0f}" if d else "the same as")
        )
    return "; ".join(parts)


def previous_types(counts_by_type: object, main_crime_type: object) -> tuple[str, ...]:
    """The crime types of a last-list place: the keys of its ``counts_by_type`` (JSON), else its main crime type,
    else () (every type)."""
    if isinstance(counts_by_type, str) and counts_by_type.startswith("{"):
        try:
            return tuple(json.loads(counts_by_type))
        except ValueError:
            pass
    if isinstance(main_crime_type, str) and main_crime_type:
        return (main_crime_type,)
    return ()


def incidents_now(window: pd.DataFrame, geom: BaseGeometry, types: Sequence[str]) -> tuple[int, float]:
    """(incidents, harm) of ``window`` (the analysis window's incidents) inside ``geom`` of ``types`` (every type
    when empty)."""
    x, y = window["x"].to_numpy(float), window["y"].to_numpy(float)
    inside = shapely.contains_xy(geom, x, y)
    if types:
        inside &= window["crime_type"].isin(list(types)).to_numpy()
    return int(inside.sum()), float(window["harm"].to_numpy(float)[inside].sum())


@dataclass(frozen=True)
class Worked:
    """Harm in a place before and after the last tasking and the WDD test (NaN when not computed), in words."""

    harm_before: float
    harm_after: float
    wdd: float
    p: float
    days: float
    text: str


def _period_start(fim: pd.Timestamp, prev_fim: pd.Timestamp) -> pd.Timestamp:
    """A day before the start of the "before" period (as long as the tasking period, before the last FIM), so a
    change of clocks never drops an incident at its edge."""
    return fim - (fim - prev_fim) * 2 - pd.Timedelta(days=1)


def worked_refusal(res: RunResults, prev_fim: pd.Timestamp | None) -> str:
    """Why "did it work" cannot be judged at this meeting ('' when it can)."""
    if prev_fim is None:
        return "the last pack does not say its meeting date"
    start = _period_start(res.fim_date, prev_fim)
    inc = res.incidents
    period = inc[inc["end"] >= start]
    if coarsest_precision(period) == "month":
        return (
            "harm before and after the last tasking needs incidents dated to the day, and these are "
            "known only to the month (police.uk data)"
        )
    return ""


#: The incidents' columns an evaluation reads.
_EVALUATION_COLUMNS = ["x", "y", "start", "end", "crime_type", "harm", "time_precision"]


def period_incidents(res: RunResults, prev_fim: pd.Timestamp) -> gpd.GeoDataFrame:
    """The incidents an evaluation of the last tasking can use (those ending after a day before the "before"
    period starts), with only the columns it reads: chosen once for every place, to save time."""
    inc = res.incidents
    inc = inc.loc[inc["end"] >= _period_start(res.fim_date, prev_fim), [*_EVALUATION_COLUMNS, "geometry"]]
    return gpd.GeoDataFrame(inc, geometry="geometry", crs=res.incidents.crs)


def worked(
    res: RunResults,
    geom: BaseGeometry,
    types: Sequence[str],
    prev_fim: pd.Timestamp,
    period: gpd.GeoDataFrame | None = None,
) -> Worked:
    """Harm inside ``geom`` (the last list's place) from ``prev_fim`` to this meeting against as many days
    before, and the WDD of its incidents of ``types`` against the rest of the study area. ``period`` is
    :func:`period_incidents` (computed here when not given)."""
    from ..analysis.evaluate import evaluate_intervention  # scipy.stats and matplotlib: only when needed

    tz = res.cfg.timezone
    fim = res.fim_date
    s = prev_fim.tz_localize(tz) if prev_fim.tzinfo is None else prev_fim.tz_convert(tz)
    inc = period if period is not None else period_incidents(res, s)
    if types:
        inc = inc[inc["crime_type"].isin(list(types))]
    nan = float("nan")
    if geom.area <= 0:
        return Worked(nan, nan, nan, nan, 0.0, "the last pack has no polygon for this place")
    if not len(inc) or local_midnight(inc["end"].max(), tz) + pd.Timedelta(days=1) <= s:
        return Worked(nan, nan, nan, nan, 0.0, "too early to tell: no such crime recorded since the last meeting yet")
    ev = evaluate_intervention(
        inc,
        geom,
        s,
        fim,
        boundary=res.area.boundary,
        buffer_m=DISPLACEMENT_BUFFER_M,
        timezone=tz,
    )
    t = midpoint_times(inc)
    b0, s0 = (pd.Timestamp(v).timestamp() / 86400.0 for v in ev.before)
    a0, a1 = (pd.Timestamp(v).timestamp() / 86400.0 for v in ev.after)
    shapely.prepare(geom)
    inside = shapely.covers(geom, shapely.points(inc["x"].to_numpy(float), inc["y"].to_numpy(float)))
    harm = inc["harm"].to_numpy(float)
    hb = float(harm[inside & (t >= b0) & (t < s0)].sum())
    ha = float(harm[inside & (t >= a0) & (t < a1)].sum())
    days = a1 - a0
    w = ev.wdd
    if w["p"] < 0.05:
        verdict = (
            "fewer crimes than the rest of the area implies, allowing for displacement"
            if w["wdd"] < 0
            else "more crimes than the rest of the area implies"
        )
    else:
        verdict = "no clear change against the rest of the area"
    pct = f" ({100 * (ha - hb) / hb:+.0f}%)" if hb > 0 else ""
    text = (
        f"harm {hb:,.0f} in the {days:g} days before the last FIM, {ha:,.0f} since{pct}; "
        f"WDD {w['wdd']:+.1f} incidents (p = {w['p']:.2g}): {verdict}"
    )
    return Worked(hb, ha, float(w["wdd"]), float(w["p"]), days, text)
