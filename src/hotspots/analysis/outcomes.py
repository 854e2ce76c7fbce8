"""Outcomes of tasking: did crime and harm fall where patrol was tasked, net of displacement,
against comparable untasked places -- and did places that got more patrol do better?

For each place tasked at an earlier meeting (:func:`tasking_outcomes`):

Periods
-------
*during* = ``[start, end)`` (the tasking period, e.g. meeting date to review date);
*before* = the ``before_days`` days up to ``start`` (default: as long as *during*).
Incidents are placed by the midpoint of their time window, so the analysis needs
times to the day at least (police.uk month-only data are refused).

Areas (metres, the places' CRS)
-------------------------------
* **target**: the tasked place's polygon;
* **buffer**: the ring from its edge out to ``buffer_m`` (default 200 m), less every
  tasked place (an incident in another tasked place is that place's, not displacement);
* **controls**: ``n_controls`` (default 3) untasked places matched on history, and
  their own buffer rings as the displacement controls.

Matching the controls
---------------------
Candidates are the ``candidates`` polygons given (e.g. hotspot areas that were not
tasked), or by default square cells of the tasked places' median area laid over the
``boundary``. Candidates whose grown zone (polygon + ``buffer_m``) touches a tasked
place's grown zone are dropped, so no control or control buffer overlaps a target or
its buffer. Each place is described by its harm in ``history_bins`` (default 4) equal
periods of the ``history_days`` (default 365) before ``start``, as ``log(1 + harm)``,
each standardised over all places; the distance is Euclidean. Tasked places, in
descending order of their history harm, each take their ``n_controls`` nearest
candidates not taken yet (greedy nearest-neighbour matching without replacement; ties
by candidate id), so every control serves one place and pooled figures count each area
once. The matching table reports each pair's distance and histories.

Statistics
----------
Per place and pooled over all places, the **weighted displacement difference** of the
engine (:func:`hotspots.analysis.evaluate.wdd_test`, Wheeler & Ratcliffe 2018), with the
controls' mean as the control (area weight = number of controls) and the before period
weighted by its length relative to *during*: on counts, and on harm. For harm the
estimate is the same linear combination of harm sums; its variance treats harm as a
compound Poisson sum (the variance of a sum of harm weights of Poisson events is the sum
of their squares), obtained from the same test fed with the sums of squared weights.

**Dosage-response**: given delivered visits (:mod:`hotspots.analysis.dosage`), the
place's delivered minutes per week against its local change in harm (target change
minus the controls' mean change); an ordinary least-squares slope (harm change per 10
minutes a week) with a t interval, and Spearman's rank correlation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.special import ndtr
from shapely.geometry.base import BaseGeometry

from ..config.sections import DEFAULT_TIMEZONE
from ..errors import InputError
from ..model import midpoint_times, require_precision
from .dosage import VisitsResult, check_places, places_of_pings
from .evaluate import wdd_test

__all__ = ["DoseResponse", "OutcomesResult", "dose_response", "tasking_outcomes"]


@dataclass(frozen=True, eq=False)
class DoseResponse:
    """Delivered minutes per week against the change in harm, per place, with a fitted slope.

    ``table``: place_id, minutes_per_week, harm_change (local estimate: target change minus the
    controls' mean change, harm units over the *during* period). ``slope_per_10_minutes`` and its
    ``ci``: OLS slope of harm_change on minutes_per_week times 10, t interval with n - 2 df.
    ``spearman_rho``, ``spearman_p``: rank correlation and its two-sided p-value.
    """

    table: pd.DataFrame
    slope_per_10_minutes: float
    ci: tuple[float, float]
    spearman_rho: float
    spearman_p: float
    n: int
    alpha: float
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, eq=False)
class OutcomesResult:
    """Before/during outcomes of tasked places against matched controls.

    ``table``: one row per tasked place: counts and harm before/during in the target, its buffer,
    the controls (mean) and the control buffers (mean); the WDD on counts (``wdd_count``,
    ``wdd_count_se``, ``..._ci_low``, ``..._ci_high``, ``..._p``) and on harm (``wdd_harm...``);
    ``controls`` (their ids, ``;``-separated) and, when visits were given, ``minutes`` delivered
    and ``minutes_per_week``. ``pooled``: the same WDD statistics pooled over all places
    (``{"count": {...}, "harm": {...}}``). ``matching``: place_id, control_id, rank, distance and
    the history harm per bin of both. ``areas``: GeoDataFrame of every target, buffer, control and
    control buffer.
    """

    table: pd.DataFrame
    pooled: dict[str, dict[str, float]]
    matching: pd.DataFrame
    dose_response: DoseResponse | None
    before: tuple[pd.Timestamp, pd.Timestamp]
    during: tuple[pd.Timestamp, pd.Timestamp]
    areas: gpd.GeoDataFrame
    settings: dict[str, float | int | str | list[str]]
    automatic: dict[str, str]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The per-place table followed by the pooled rows."""
        pooled: dict[str, str | float] = {"place_id": "all places (pooled)"}
        for kind in ("count", "harm"):
            for k, v in self.pooled[kind].items():
                pooled[f"wdd_{kind}" if k == "wdd" else f"wdd_{kind}_{k}"] = v
        return pd.concat([self.table, pd.DataFrame([pooled])], ignore_index=True)


def _ts(v: str | pd.Timestamp, tz: str) -> pd.Timestamp:
    t = pd.Timestamp(v)
    return t.tz_localize(tz) if t.tzinfo is None else t.tz_convert(tz)


#: (before, during) sums of one measure: ``t`` target, ``c`` controls (summed), ``d`` buffer,
#: ``cd`` control buffers (summed).
Sums = dict[str, npt.NDArray[np.float64]]


def _wdd(sums: Sums, tw: tuple[float, float], k: float) -> dict[str, float]:
    """WDD of one (possibly pooled) comparison: ``t``/``d`` (before, after) of target and buffer,
    ``c``/``cd`` (before, after) sums over ``k`` controls per target."""
    return wdd_test(
        sums["t"], sums["c"], sums["d"], sums["cd"], time_weights=tw, area_weights=(k, 1.0, k, 1.0), same_control=False
    )


def _wdd_pair(
    cnt: Sums, harm: Sums, harm2: Sums, tw: tuple[float, float], k: float
) -> tuple[dict[str, float], dict[str, float]]:
    """WDD on counts, and on harm with the compound-Poisson variance."""
    wc = _wdd(cnt, tw, k)
    wh = _wdd(harm, tw, k)
    var = _wdd(harm2, tw, k)["var"]
    se = math.sqrt(var)
    z = wh["wdd"] / se if se > 0 else 0.0
    wh.update(
        {
            "var": var,
            "se": se,
            "z": z,
            "p": float(2 * ndtr(-abs(z))),
            "ci_low": wh["wdd"] - 1.959963984540054 * se,
            "ci_high": wh["wdd"] + 1.959963984540054 * se,
        }
    )
    return wc, wh


def _candidate_grid(boundary: BaseGeometry | None, side: float, where: str) -> npt.NDArray[np.object_]:
    """Square cells of ``side`` metres inside ``boundary``, the default control candidates."""
    if boundary is None:
        raise InputError(
            f"{where}: give candidate control places, or the study-area boundary to lay candidate cells over."
        )
    minx, miny, maxx, maxy = boundary.bounds
    xs = np.arange(minx, maxx - side + 1e-9, side)
    ys = np.arange(miny, maxy - side + 1e-9, side)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + side, gy.ravel() + side)
    shapely.prepare(boundary)
    return boxes[shapely.contains(boundary, boxes)]


def _check_outcome_inputs(
    incidents: pd.DataFrame,
    tasked: gpd.GeoDataFrame,
    id_column: str,
    buffer_m: float,
    n_controls: int,
    history_bins: int,
    history_days: float,
    alpha: float,
    where: str,
) -> npt.NDArray[np.object_]:
    """The tasked places' ids, after checking the places, the incident columns and CRS and the settings."""
    t_ids = check_places(tasked, None, id_column, where)
    for c in ("x", "y", "start", "end", "harm", "time_precision"):
        if c not in incidents.columns:
            raise InputError(f"{where}: incidents need a {c!r} column (the canonical incident table).")
    if isinstance(incidents, gpd.GeoDataFrame) and incidents.crs is not None and incidents.crs != tasked.crs:
        raise InputError(
            f"{where}: incidents are in {incidents.crs} but the tasked places in {tasked.crs}; reproject one of them."
        )
    if buffer_m < 0 or n_controls < 1 or history_bins < 1 or history_days <= 0 or not 0 < alpha < 1:
        raise InputError(
            f"{where}: need buffer_m >= 0, n_controls >= 1, history_bins >= 1, history_days > 0 and 0 < alpha < 1."
        )
    return t_ids


@dataclass(frozen=True, eq=False)
class _Areas:
    """The polygons compared: targets and their buffer rings, candidate controls and theirs."""

    t_ids: npt.NDArray[np.object_]
    t_geoms: npt.NDArray[np.object_]
    t_ring: npt.NDArray[np.object_]
    c_ids: npt.NDArray[np.object_]
    c_geoms: npt.NDArray[np.object_]
    c_ring: npt.NDArray[np.object_]

    @property
    def n_t(self) -> int:
        return len(self.t_ids)

    @property
    def n_c(self) -> int:
        return len(self.c_ids)

    def every(self) -> npt.NDArray[np.object_]:
        """Targets, target buffers, candidates, candidate buffers, in that order."""
        return np.concatenate([self.t_geoms, self.t_ring, self.c_geoms, self.c_ring]).astype(object)


def _outcome_areas(
    tasked: gpd.GeoDataFrame,
    t_ids: npt.NDArray[np.object_],
    candidates: gpd.GeoDataFrame | None,
    boundary: BaseGeometry | None,
    id_column: str,
    buffer_m: float,
    n_controls: int,
    where: str,
    automatic: dict[str, str],
    notes: list[str],
) -> _Areas:
    """Targets with their buffer rings (less every tasked place), and the candidate controls whose
    grown zone clears every tasked place's grown zone, with their rings; records the automatic
    candidates in ``automatic`` and the dropped ones in ``notes``."""
    t_geoms = tasked.geometry.to_numpy()
    tasked_union = shapely.union_all(t_geoms)
    t_zone = shapely.buffer(t_geoms, buffer_m) if buffer_m > 0 else t_geoms
    zone_union = shapely.union_all(t_zone)
    t_ring = shapely.difference(t_zone, tasked_union)
    if candidates is None:
        side = float(np.sqrt(np.median(shapely.area(t_geoms))))
        cand_geoms = _candidate_grid(boundary, side, where)
        c_ids = np.array([f"cell {k + 1:04d}" for k in range(len(cand_geoms))], dtype=object)
        automatic["candidates"] = (
            f"{len(cand_geoms):,} square cells of {side:.0f} m (the tasked places' median area) inside the boundary"
        )
    else:
        c_ids = check_places(candidates, tasked.crs, id_column, where)
        cand_geoms = candidates.geometry.to_numpy()
        keep = ~np.isin(c_ids, t_ids)
        c_ids, cand_geoms = c_ids[keep], cand_geoms[keep]
    c_zone = shapely.buffer(cand_geoms, buffer_m) if buffer_m > 0 else cand_geoms
    clash = shapely.intersects(c_zone, zone_union)
    if clash.any():
        notes.append(f"{int(clash.sum())} candidate(s) dropped: they or their buffer touch a tasked place's buffer")
    c_ids, cand_geoms, c_zone = c_ids[~clash], cand_geoms[~clash], c_zone[~clash]
    n_t = len(t_ids)
    if len(c_ids) < n_controls * n_t:
        raise InputError(
            f"{where}: {len(c_ids)} candidate control place(s) for {n_t} tasked place(s) x {n_controls} "
            "controls; give more candidates (or a larger boundary), or fewer n_controls."
        )
    c_ring = shapely.difference(c_zone, cand_geoms)
    return _Areas(t_ids, t_geoms, t_ring, c_ids, cand_geoms, c_ring)


def _match_controls(
    hist: npt.NDArray[np.float64], areas: _Areas, n_controls: int, history_bins: int
) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Greedy nearest-neighbour matching without replacement on standardised ``log(1 + harm)`` per
    history bin (``hist``: areas x bins, in :meth:`_Areas.every` order): the controls of each tasked
    place (indices into the candidates) and the matching table."""
    n_t, n_c = areas.n_t, areas.n_c
    feats = np.log1p(hist[np.r_[np.arange(n_t), np.arange(2 * n_t, 2 * n_t + n_c)]])
    mu, sd = feats.mean(axis=0), feats.std(axis=0)
    sd[sd == 0] = 1.0
    z = (feats - mu) / sd
    zt, zc = z[:n_t], z[n_t:]
    dist = np.sqrt(((zt[:, None, :] - zc[None, :, :]) ** 2).sum(axis=2))
    taken = np.zeros(n_c, dtype=bool)
    chosen = np.zeros((n_t, n_controls), dtype=np.int64)
    match_rows = []
    c_order = np.argsort(areas.c_ids.astype(str), kind="stable")
    for i in np.argsort(-hist[:n_t].sum(axis=1), kind="stable"):
        d = np.where(taken, np.inf, dist[i])
        pick = c_order[np.lexsort((np.arange(n_c), d[c_order]))][:n_controls]
        taken[pick] = True
        chosen[i] = pick
        for r, j in enumerate(pick):
            match_rows.append(
                {
                    "place_id": areas.t_ids[i],
                    "control_id": areas.c_ids[j],
                    "rank": r + 1,
                    "distance": float(dist[i, j]),
                    **{f"place_harm_bin{b + 1}": hist[i, b] for b in range(history_bins)},
                    **{f"control_harm_bin{b + 1}": hist[2 * n_t + j, b] for b in range(history_bins)},
                }
            )
    return chosen, pd.DataFrame(match_rows)


def _place_row(
    place_id: object, controls: str, parts: dict[str, Sums], wc: dict[str, float], wh: dict[str, float], k: float
) -> dict[str, Any]:
    """One tasked place's row: counts and harm before/during in each area (controls as means) and the WDDs."""
    row: dict[str, Any] = {"place_id": place_id, "controls": controls}
    for name, label in (("cnt", "count"), ("harm", "harm")):
        p = parts[name]
        row.update(
            {
                f"{label}_before": p["t"][0],
                f"{label}_during": p["t"][1],
                f"buffer_{label}_before": p["d"][0],
                f"buffer_{label}_during": p["d"][1],
                f"control_{label}_before": p["c"][0] / k,
                f"control_{label}_during": p["c"][1] / k,
                f"control_buffer_{label}_before": p["cd"][0] / k,
                f"control_buffer_{label}_during": p["cd"][1] / k,
            }
        )
    for label, w in (("count", wc), ("harm", wh)):
        row.update(
            {
                f"wdd_{label}": w["wdd"],
                f"wdd_{label}_local": w["est_local"],
                f"wdd_{label}_displacement": w["est_displace"],
                f"wdd_{label}_se": w["se"],
                f"wdd_{label}_ci_low": w["ci_low"],
                f"wdd_{label}_ci_high": w["ci_high"],
                f"wdd_{label}_p": w["p"],
            }
        )
    return row


def _areas_frame(areas: _Areas, chosen: npt.NDArray[np.int64], crs: Any) -> gpd.GeoDataFrame:
    """Every target, buffer, chosen control and control buffer, labelled with its role and place."""
    n_t, n_c = areas.n_t, areas.n_c
    labels = ["target"] * n_t + ["buffer"] * n_t + ["control"] * n_c + ["control buffer"] * n_c
    owner = list(areas.t_ids) + list(areas.t_ids) + list(areas.c_ids) + list(areas.c_ids)
    used = np.r_[np.ones(2 * n_t, bool), np.isin(np.arange(n_c), chosen), np.isin(np.arange(n_c), chosen)]
    return gpd.GeoDataFrame(
        {"area": np.array(labels)[used], "place_id": np.array(owner, dtype=object)[used]},
        geometry=areas.every()[used],
        crs=crs,
    )


def tasking_outcomes(
    incidents: pd.DataFrame,
    tasked: gpd.GeoDataFrame,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    boundary: BaseGeometry | None = None,
    id_column: str = "item_id",
    buffer_m: float = 200.0,
    before_days: float | None = None,
    history_days: float = 365.0,
    history_bins: int = 4,
    n_controls: int = 3,
    visits: VisitsResult | None = None,
    crime_types: Iterable[str] = (),
    alpha: float = 0.05,
) -> OutcomesResult:
    """Outcomes of the places in ``tasked`` (GeoDataFrame with ``id_column``) tasked from ``start``
    to ``end`` (see the module docstring for periods, areas, matching and statistics).

    Parameters
    ----------
    incidents : canonical incidents (GeoDataFrame with ``x, y, start, end, harm, time_precision,
        crime_type``) in the tasked places' CRS (metres).
    candidates : GeoDataFrame of untasked places with ``id_column`` to draw controls from; default
        square cells over ``boundary`` (a shapely polygon), stated in ``automatic``.
    buffer_m : displacement buffer width in metres.
    before_days, history_days, history_bins : periods in days (``before_days`` None = as long as the
        tasking period).
    n_controls : controls matched per tasked place.
    visits : optional :class:`~hotspots.analysis.dosage.VisitsResult` for delivered minutes and the
        dosage-response view.
    crime_types : only these canonical crime types (empty = all).
    """
    where = "tasking_outcomes"
    t_ids = _check_outcome_inputs(
        incidents, tasked, id_column, buffer_m, n_controls, history_bins, history_days, alpha, where
    )
    crime_types = list(crime_types)
    inc = incidents
    if crime_types:
        inc = inc[inc["crime_type"].isin(crime_types)]
    require_precision(
        inc,
        "day",
        "Tasking outcomes",
        "Use a force extract with offence dates (police.uk data cannot be split into fortnights).",
    )
    tz = str(inc["start"].dt.tz) if len(inc) else DEFAULT_TIMEZONE
    s, e = _ts(start, tz), _ts(end, tz)
    if e <= s:
        raise InputError(f"{where}: end {e} is not after start {s}.")
    during_days = (e - s).total_seconds() / 86400.0
    bd = float(before_days) if before_days else during_days
    b0 = s - pd.Timedelta(days=bd)
    h0 = s - pd.Timedelta(days=history_days)
    automatic: dict[str, str] = {}
    notes: list[str] = []
    areas = _outcome_areas(
        tasked, t_ids, candidates, boundary, id_column, buffer_m, n_controls, where, automatic, notes
    )
    n_t, n_c = areas.n_t, areas.n_c
    # ------------------------------------------------------------------ incidents per area and period
    t_mid = midpoint_times(inc) if len(inc) else np.zeros(0)
    day = lambda ts: (ts.tz_convert("UTC").value / 1e9) / 86400.0  # noqa: E731
    lo = min(day(h0), day(b0))
    live = (t_mid >= lo) & (t_mid < day(e))
    x = inc["x"].to_numpy(float)[live]
    y = inc["y"].to_numpy(float)[live]
    tm = t_mid[live]
    hw = inc["harm"].to_numpy(float)[live]
    all_geoms = areas.every()
    pt, pl = places_of_pings(x, y, all_geoms, 0.0)
    n_areas = len(all_geoms)
    period = np.full(len(tm), -1)
    period[(tm >= day(b0)) & (tm < day(s))] = 0
    period[(tm >= day(s)) & (tm < day(e))] = 1
    edges = np.linspace(day(h0), day(s), history_bins + 1)
    hbin = np.searchsorted(edges, tm, side="right") - 1
    hbin[(tm < edges[0]) | (tm >= edges[-1])] = -1

    def tally(
        weights: npt.NDArray[np.float64], lab_of: npt.NDArray[np.int64], n_labels: int
    ) -> npt.NDArray[np.float64]:
        out = np.zeros((n_areas, n_labels))
        lab = lab_of[pt]
        ok = lab >= 0
        np.add.at(out, (pl[ok], lab[ok]), weights[pt][ok])
        return out

    counts = tally(np.ones(len(tm)), period, 2)
    harm = tally(hw, period, 2)
    harm2 = tally(hw * hw, period, 2)
    hist = tally(hw, hbin, history_bins)
    T, R = slice(0, n_t), slice(n_t, 2 * n_t)
    C, CR = slice(2 * n_t, 2 * n_t + n_c), slice(2 * n_t + n_c, n_areas)
    chosen, matching = _match_controls(hist, areas, n_controls, history_bins)
    # ------------------------------------------------------------------ WDD per place and pooled
    tw = (bd / during_days, 1.0)
    k = float(n_controls)
    rows = []
    sums = {name: {a: np.zeros(2) for a in ("t", "c", "d", "cd")} for name in ("cnt", "harm", "harm2")}
    minutes = None
    if visits is not None:
        v = visits.visits
        sel = (v["start"] >= s) & (v["start"] < e)
        minutes = v[sel].groupby("place_id")["minutes"].sum()
    for i in range(n_t):
        cj = chosen[i]
        parts = {}
        for name, arr in (("cnt", counts), ("harm", harm), ("harm2", harm2)):
            parts[name] = {"t": arr[T][i], "c": arr[C][cj].sum(axis=0), "d": arr[R][i], "cd": arr[CR][cj].sum(axis=0)}
            for a in parts[name]:
                sums[name][a] += parts[name][a]
        wc, wh = _wdd_pair(parts["cnt"], parts["harm"], parts["harm2"], tw, k)
        row = _place_row(t_ids[i], ";".join(str(areas.c_ids[j]) for j in cj), parts, wc, wh, k)
        if minutes is not None:
            row["minutes"] = float(minutes.get(str(t_ids[i]), 0.0))
            row["minutes_per_week"] = row["minutes"] / during_days * 7.0
        rows.append(row)
    table = pd.DataFrame(rows)
    pc, ph = _wdd_pair(sums["cnt"], sums["harm"], sums["harm2"], tw, k)
    pooled = {"count": pc, "harm": ph}
    rings = shapely.intersects(areas.t_ring[:, None], areas.t_ring[None, :]) if n_t > 1 else np.zeros((1, 1), bool)
    np.fill_diagonal(rings, False)
    if rings.any():
        notes.append(
            f"{int(rings.sum() // 2)} pair(s) of tasked places have overlapping buffers; pooled buffer "
            "counts include their shared incidents once per place"
        )
    dr = None
    if visits is not None:
        dr = dose_response(table["place_id"], table["minutes_per_week"], table["wdd_harm_local"], alpha=alpha)
    settings: dict[str, float | int | str | list[str]] = {
        "buffer_m": float(buffer_m),
        "before_days": bd,
        "during_days": during_days,
        "history_days": float(history_days),
        "history_bins": int(history_bins),
        "n_controls": int(n_controls),
        "crime_types": crime_types,
        "alpha": float(alpha),
        "id_column": id_column,
        "matching": "greedy nearest neighbour on standardised log(1 + harm) per history bin, without "
        "replacement, places in descending order of history harm",
    }
    if not before_days:
        automatic["before_days"] = f"{bd:g} days: as long as the tasking period"
    notes.append(
        f"before {b0:%Y-%m-%d}..{s - pd.Timedelta(days=1):%Y-%m-%d}, during {s:%Y-%m-%d}.."
        f"{e - pd.Timedelta(days=1):%Y-%m-%d}; {n_t} tasked place(s), {n_controls} control(s) each from "
        f"{n_c:,} candidate(s)"
    )
    return OutcomesResult(
        table=table,
        pooled=pooled,
        matching=matching,
        dose_response=dr,
        before=(b0, s),
        during=(s, e),
        areas=_areas_frame(areas, chosen, tasked.crs),
        settings=settings,
        automatic=automatic,
        notes=tuple(notes),
    )


def dose_response(
    place_ids: Sequence[object] | pd.Series,
    minutes_per_week: npt.ArrayLike,
    harm_change: npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> DoseResponse:
    """OLS slope (per 10 minutes a week, with a t interval) and Spearman correlation of harm change
    against delivered minutes per week (see the module docstring)."""
    m = np.asarray(minutes_per_week, dtype=float)
    h = np.asarray(harm_change, dtype=float)
    table = pd.DataFrame({"place_id": list(place_ids), "minutes_per_week": m, "harm_change": h})
    ok = np.isfinite(m) & np.isfinite(h)
    n = int(ok.sum())
    notes = []
    if n < 3 or np.ptp(m[ok]) == 0:
        notes.append("fewer than 3 places or no difference in delivered minutes: no slope")
        return DoseResponse(
            table=table,
            slope_per_10_minutes=np.nan,
            ci=(np.nan, np.nan),
            spearman_rho=np.nan,
            spearman_p=np.nan,
            n=n,
            alpha=alpha,
            notes=tuple(notes),
        )
    from scipy import stats  # imported when needed: scipy.stats costs most of a second

    fit = stats.linregress(m[ok], h[ok])
    q = stats.t.ppf(1 - alpha / 2, n - 2)
    slope = fit.slope * 10.0
    ci = (slope - q * fit.stderr * 10.0, slope + q * fit.stderr * 10.0)
    rho, p = stats.spearmanr(m[ok], h[ok])
    return DoseResponse(
        table=table,
        slope_per_10_minutes=float(slope),
        ci=(float(ci[0]), float(ci[1])),
        spearman_rho=float(rho),
        spearman_p=float(p),
        n=n,
        alpha=alpha,
        notes=tuple(notes),
    )
