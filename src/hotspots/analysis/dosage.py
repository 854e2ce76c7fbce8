"""Patrol dosage delivered: visits to places from GPS pings (or a patrol log), minutes of
presence per place per day and week, and compliance with the playbook's dosage.

The College of Policing's hot-spot guidance asks forces to *target, track and
test*. The tasking list targets; this module tracks (what patrol each place
actually got); :mod:`hotspots.analysis.outcomes` and
:mod:`hotspots.analysis.experiments` test.

Visits (:func:`detect_visits`)
------------------------------
Everything is in one projected CRS (metres; the ``crs`` argument, which must be
the places' CRS) and times are tz-aware.

1. **Inside.** A ping is inside a place when it falls in the place's polygon grown
   by ``buffer_m`` metres (default 10 m, about the error of a GPS fix).
2. **Stays.** Consecutive inside pings of one unit at one place belong to one stay
   when they are at most ``max_gap_s`` seconds apart -- whatever the unit did in
   between, so a short step outside, or a few lost pings, do not split a visit.
   The automatic ``max_gap_s`` is three times the median interval between a
   unit's consecutive pings, and at least 120 s (the result says which value it
   chose and why).
3. **Presence.** Each ping stands for the time halfway back to the unit's
   previous ping and halfway on to its next one; across a gap longer than
   ``max_gap_s`` (the unit went quiet) a side counts half the unit's usual
   interval instead. A stay's presence is the sum over its inside pings, so pings
   every 10 s over 15 minutes give 15 minutes; a stay runs from its first ping
   less that ping's backward half to its last ping plus its forward half.
4. **Drive-throughs.** A stay's *transit speed* is the unit's path from the ping
   before the stay, through every ping up to the ping after it, divided by the
   time between those two pings. Faster than ``drive_speed_mps`` (default 5 m/s,
   18 km/h) is a drive-through, not a visit.
5. **Minimum dwell.** A slower stay with less presence than ``min_dwell_s``
   (default 120 s) is a short stop, not a visit.

Each stay is kept with its ``kind`` (``visit``, ``drive_through`` or ``short``);
minutes of presence per place count visits only. Places may overlap (a hotspot and a
near-repeat zone, say): a unit inside both is present at both, so the stay counts for
each, and the result's notes say which places overlap. A visit counts on the local day
(and the Monday-to-Sunday week) in which it starts.

Compliance (:func:`dosage_compliance`)
--------------------------------------
The playbook's dosage sentence (read by
:func:`hotspots.analysis.dosage_text.parse_dosage`) gives the visits and minutes
asked for over the tasking period; delivered visits and minutes are compared
with them. See :func:`dosage_compliance` for the flags.

Dwell times and the Koper curve
-------------------------------
Koper (1995) found that the deterrence left behind by a patrol stop grew with
the length of the stop up to about 14-15 minutes, and that much shorter or
longer stops did less; the guidance since is visits of about 10-15 minutes
(:data:`KOPER`). :meth:`VisitsResult.dwell_distribution` gives the counts per
dwell-time bin against that band, as data for a chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from .._util import kernel_array
from ..config.sections import DEFAULT_TIMEZONE
from ..errors import InputError
from ._dosage_kernels import points_in_places
from ._dosage_kernels import stays as stays_kernel
from .dosage_text import NIGHT_HOURS, Dosage, parse_dosage

__all__ = [
    "DWELL_BINS_MINUTES",
    "KOPER",
    "ComplianceResult",
    "KoperReference",
    "VisitsResult",
    "check_places",
    "detect_visits",
    "dosage_compliance",
    "places_of_pings",
    "visits_from_log",
]

STAY_KINDS = ("visit", "drive_through", "short")

#: Default dwell-time bins (minutes) of :meth:`VisitsResult.dwell_distribution`.
DWELL_BINS_MINUTES = (0.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, math.inf)


@dataclass(frozen=True)
class KoperReference:
    """Reference values for a dwell-time chart: the 10-15 minute band of the "Koper curve"."""

    low_minutes: float = 10.0
    high_minutes: float = 15.0
    source: str = (
        "Koper, C. S. (1995). Just enough police presence: reducing crime and disorderly behavior by "
        "optimizing patrol time in crime hot spots. Justice Quarterly 12(4), 649-672."
    )
    finding: str = (
        "The longer a patrol stop, the longer the place stayed free of crime and disorder after the "
        "officers left, up to about 14-15 minutes; beyond that the benefit fell away. Visits of about "
        "10-15 minutes, repeated at unpredictable times, are the usual guidance."
    )

    def band(self, minutes: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """``"shorter"``, ``"10-15 minutes"`` or ``"longer"`` for each dwell time (minutes)."""
        m = np.asarray(minutes, dtype=float)
        label = f"{self.low_minutes:g}-{self.high_minutes:g} minutes"
        return np.where(m < self.low_minutes, "shorter", np.where(m <= self.high_minutes, label, "longer"))


KOPER = KoperReference()


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class VisitsResult:
    """Patrol presence at places.

    Attributes
    ----------
    stays : one row per stay: ``place_id, unit, start, end`` (tz-aware), ``minutes`` (presence),
        ``span_minutes`` (end - start), ``n_pings``, ``speed_mps`` (transit speed), ``kind``
        (``visit`` / ``drive_through`` / ``short``), ``day`` (local date the stay starts) and ``week``
        (the Monday of that week). From a patrol log every row is a ``visit`` with no pings or speed.
    daily, weekly : per place and day (week) with any stay: ``minutes`` (visits only), ``visits``,
        ``units`` (distinct units that visited), ``drive_throughs``, ``short_stops``.
    places : per place given (visited or not): totals of the above, ``days_visited``,
        ``median_visit_minutes`` and ``share_koper_band`` (share of visits lasting 10-15 minutes).
    settings : every setting used, with units.
    automatic : the settings chosen automatically, each with how it was chosen.
    source : ``"gps"`` or ``"patrol log"``.
    """

    stays: pd.DataFrame
    daily: pd.DataFrame
    weekly: pd.DataFrame
    places: pd.DataFrame
    settings: dict[str, float | int | str]
    automatic: dict[str, str]
    source: str
    timezone: str
    crs: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def visits(self) -> pd.DataFrame:
        """The stays that count as visits."""
        return self.stays[self.stays["kind"] == "visit"].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """One row per stay (the ``stays`` table)."""
        return self.stays.copy()

    def dwell_distribution(
        self, bins_minutes: Sequence[float] = DWELL_BINS_MINUTES, by_place: bool = False
    ) -> pd.DataFrame:
        """Counts of visits per dwell-time bin (minutes; left-closed), with each bin's relation to the
        Koper band (:data:`KOPER`), for all places together or per place."""
        edges = np.asarray(bins_minutes, dtype=float)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise InputError(f"dwell_distribution: bins_minutes must increase, got {list(bins_minutes)}.")
        v = self.visits
        labels = [f"{a:g}-{b:g}" if np.isfinite(b) else f"{a:g}+" for a, b in pairwise(edges)]
        k = np.searchsorted(edges, v["minutes"].to_numpy(float), side="right") - 1
        k = np.clip(k, 0, len(labels) - 1)
        mids = np.where(np.isfinite(edges[1:]), (edges[:-1] + edges[1:]) / 2, edges[:-1] + 1)
        keys = ["place_id"] if by_place else []
        frame = pd.DataFrame({"bin": k, "place_id": v["place_id"].to_numpy()})
        counts = frame.groupby([*keys, "bin"]).size() if len(frame) else pd.Series(dtype=int)
        rows = []
        groups = sorted(v["place_id"].unique()) if by_place else [None]
        for g in groups:
            for i, lab in enumerate(labels):
                key = (g, i) if by_place else i
                rows.append(
                    {
                        **({"place_id": g} if by_place else {}),
                        "minutes_from": edges[i],
                        "minutes_to": edges[i + 1],
                        "bin": lab,
                        "visits": int(counts.get(key, 0)) if len(counts) else 0,
                        "koper": str(KOPER.band(mids[i])),
                    }
                )
        out = pd.DataFrame(rows)
        total = out.groupby(keys)["visits"].transform("sum") if by_place else out["visits"].sum()
        out["share"] = np.where(total > 0, out["visits"] / np.where(total > 0, total, 1), 0.0)
        return out


def _empty_stays(timezone: str) -> pd.DataFrame:
    t = pd.Series([], dtype=f"datetime64[ns, {timezone}]")
    return pd.DataFrame(
        {
            "place_id": pd.Series([], dtype=object),
            "unit": pd.Series([], dtype=object),
            "start": t,
            "end": t,
            "minutes": [],
            "span_minutes": [],
            "n_pings": pd.Series([], dtype="int64"),
            "speed_mps": [],
            "kind": pd.Series([], dtype=object),
        }
    )


def _summaries(
    stays: pd.DataFrame, place_ids: Sequence[str] | npt.NDArray[np.object_], timezone: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Add day/week to ``stays`` and build the daily, weekly and per-place tables."""
    stays = stays.copy()
    local = stays["start"].dt.tz_convert(timezone).dt.tz_localize(None)
    stays["day"] = local.dt.normalize()
    stays["week"] = stays["day"] - pd.to_timedelta(stays["day"].dt.weekday, unit="D")
    is_visit = stays["kind"] == "visit"
    work = stays.assign(
        v_minutes=stays["minutes"].where(is_visit, 0.0),
        visit=is_visit.astype(int),
        drive=(stays["kind"] == "drive_through").astype(int),
        short=(stays["kind"] == "short").astype(int),
        v_unit=stays["unit"].where(is_visit),
    )

    def table(keys):
        if not len(work):
            return pd.DataFrame(
                {
                    **{k: [] for k in keys},
                    "minutes": [],
                    "visits": [],
                    "units": [],
                    "drive_throughs": [],
                    "short_stops": [],
                }
            )
        g = work.groupby(keys, sort=True)
        return pd.DataFrame(
            {
                "minutes": g["v_minutes"].sum(),
                "visits": g["visit"].sum(),
                "units": g["v_unit"].nunique(),
                "drive_throughs": g["drive"].sum(),
                "short_stops": g["short"].sum(),
            }
        ).reset_index()

    daily = table(["place_id", "day"])
    weekly = table(["place_id", "week"])
    ids = pd.Index([str(p) for p in place_ids], name="place_id")
    v = work[is_visit]
    per = pd.DataFrame(index=ids)
    if len(work):
        g = work.groupby("place_id")
        per["visits"] = g["visit"].sum()
        per["minutes"] = g["v_minutes"].sum()
        per["drive_throughs"] = g["drive"].sum()
        per["short_stops"] = g["short"].sum()
        per["units"] = g["v_unit"].nunique()
        per["days_visited"] = v.groupby("place_id")["day"].nunique()
        per["median_visit_minutes"] = v.groupby("place_id")["minutes"].median()
        inband = (v["minutes"] >= KOPER.low_minutes) & (v["minutes"] <= KOPER.high_minutes)
        per["share_koper_band"] = inband.groupby(v["place_id"]).mean()
    for c in ("visits", "minutes", "drive_throughs", "short_stops", "units", "days_visited"):
        per[c] = per[c].fillna(0) if c in per else 0
    for c in ("visits", "drive_throughs", "short_stops", "units", "days_visited"):
        per[c] = per[c].astype(int)
    for c in ("median_visit_minutes", "share_koper_band"):
        if c not in per:
            per[c] = np.nan
    return stays, daily, weekly, per.reset_index()


# --------------------------------------------------------------------------- places -> arrays
def _flatten_places(geoms: npt.ArrayLike, buffer_m: float) -> dict[str, Any]:
    """Ring arrays, bounding boxes and a grid index of the (buffered) place polygons."""
    g = np.asarray(geoms, dtype=object)
    if buffer_m > 0:
        g = shapely.buffer(g, buffer_m, quad_segs=8)
    parts, part_of = shapely.get_parts(g, return_index=True)
    rings_ext = shapely.get_exterior_ring(parts)
    n_int = shapely.get_num_interior_rings(parts)
    ring_list, owner_list = [], []
    for k, (p, owner) in enumerate(zip(parts, part_of, strict=True)):
        ring_list.append(rings_ext[k])
        owner_list.append(owner)
        for h in range(int(n_int[k])):
            ring_list.append(shapely.get_interior_ring(p, h))
            owner_list.append(owner)
    ring_place = np.asarray(owner_list, dtype=np.int64)
    order = np.argsort(ring_place, kind="stable")
    ring_geoms = [ring_list[i] for i in order]
    ring_place = ring_place[order]
    coords, ring_idx = shapely.get_coordinates(np.asarray(ring_geoms, dtype=object), return_index=True)
    counts = np.bincount(ring_idx, minlength=len(ring_geoms))
    ring_start = np.r_[0, np.cumsum(counts)].astype(np.int64)
    n_places = len(g)
    place_ring = np.searchsorted(ring_place, np.arange(n_places + 1), side="left").astype(np.int64)
    bbox = shapely.bounds(g).astype(np.float64)
    empty = ~np.isfinite(bbox).all(axis=1)
    bbox[empty] = (np.inf, np.inf, -np.inf, -np.inf)  # an empty place holds no point
    bbox_all = np.array([[0.0, 0.0, 1.0, 1.0]]) if empty.all() else bbox[~empty]
    gx0, gy0 = float(bbox_all[:, 0].min()), float(bbox_all[:, 1].min())
    gx1, gy1 = float(bbox_all[:, 2].max()), float(bbox_all[:, 3].max())
    side = np.median(np.maximum(bbox_all[:, 2] - bbox_all[:, 0], bbox_all[:, 3] - bbox_all[:, 1]))
    cs = float(max(side, math.sqrt(max((gx1 - gx0) * (gy1 - gy0), 1.0) / 4e6), 1.0))
    nx = int(math.floor((gx1 - gx0) / cs)) + 1
    ny = int(math.floor((gy1 - gy0) / cs)) + 1
    cell_parts, owner_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for p in np.flatnonzero(~empty).tolist():  # places with a bounding box, in order
        i0 = int((bbox[p, 0] - gx0) // cs)
        i1 = min(int((bbox[p, 2] - gx0) // cs), nx - 1)
        j0 = int((bbox[p, 1] - gy0) // cs)
        j1 = min(int((bbox[p, 3] - gy0) // cs), ny - 1)
        jj, ii = np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1), indexing="ij")
        c = (jj * nx + ii).ravel()
        cell_parts.append(c)
        owner_parts.append(np.full(len(c), p))
    cells = np.concatenate(cell_parts)
    owners = np.concatenate(owner_parts)
    o = np.lexsort((owners, cells))
    cell_places = owners[o].astype(np.int32)
    cell_start = np.r_[0, np.cumsum(np.bincount(cells[o], minlength=nx * ny))].astype(np.int64)
    return {
        "vx": coords[:, 0].copy(),
        "vy": coords[:, 1].copy(),
        "ring_start": ring_start,
        "place_ring": place_ring,
        "bbox": bbox,
        "gx0": gx0,
        "gy0": gy0,
        "cs": cs,
        "nx": nx,
        "ny": ny,
        "cell_start": cell_start,
        "cell_places": cell_places,
    }


def places_of_pings(
    x: npt.ArrayLike, y: npt.ArrayLike, geoms: npt.ArrayLike, buffer_m: float = 0.0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Every (ping, place) pair with the ping inside the place grown by ``buffer_m`` metres.

    ``x``, ``y``: metres; ``geoms``: polygons in the same CRS. Returns (ping index int64, place index
    int32), ordered by ping. The numba engine behind :func:`detect_visits`.
    """
    f = _flatten_places(geoms, buffer_m)
    return points_in_places(
        kernel_array(x, np.float64),
        kernel_array(y, np.float64),
        f["gx0"],
        f["gy0"],
        f["cs"],
        f["nx"],
        f["ny"],
        f["cell_start"],
        f["cell_places"],
        f["bbox"],
        f["place_ring"],
        f["ring_start"],
        f["vx"],
        f["vy"],
    )


# --------------------------------------------------------------------------- checks
def check_places(places: gpd.GeoDataFrame, crs: Any, id_column: str, where: str) -> npt.NDArray[np.object_]:
    """The place ids (text) of a GeoDataFrame of place polygons, after checking it: a CRS (equal to
    ``crs`` when that is given, e.g. the pings' CRS), a column ``id_column`` of present, unique ids,
    at least one place and a polygon for each. :class:`InputError` starting with ``where`` otherwise."""
    if not hasattr(places, "geometry") or not hasattr(places, "crs"):
        raise InputError(f"{where}: places must be a GeoDataFrame of polygons with a CRS.")
    if places.crs is None:
        raise InputError(f"{where}: the places have no CRS; set it (e.g. places.set_crs('EPSG:27700')).")
    if crs is not None and CRS.from_user_input(crs) != CRS.from_user_input(places.crs):
        raise InputError(
            f"{where}: the pings are in {crs} but the places in {places.crs.to_string()}; reproject "
            "one of them (places.to_crs(...))."
        )
    if id_column not in places.columns:
        raise InputError(
            f"{where}: the places have no {id_column!r} column (columns: {list(places.columns)[:15]}); "
            "pass id_column= naming the column that identifies each place."
        )
    ids = places[id_column].astype(str)
    if places[id_column].isna().any() or ids.duplicated().any():
        dup = sorted(set(ids[ids.duplicated()]))[:5]
        raise InputError(f"{where}: place ids in {id_column!r} must be present and unique (repeated: {dup}).")
    if len(places) == 0:
        raise InputError(f"{where}: no places given.")
    types = set(places.geometry.geom_type.dropna())
    if places.geometry.isna().any() or places.geometry.is_empty.any() or types - {"Polygon", "MultiPolygon"}:
        raise InputError(
            f"{where}: every place needs a polygon geometry (found {sorted(types)}, with "
            f"{int(places.geometry.isna().sum() + places.geometry.is_empty.sum())} empty)."
        )
    return ids.to_numpy()


def _check_pings(pings: pd.DataFrame, where: str) -> None:
    need = ("unit", "time", "x", "y")
    if not isinstance(pings, pd.DataFrame) or any(c not in pings.columns for c in need):
        have = list(pings.columns) if isinstance(pings, pd.DataFrame) else type(pings).__name__
        raise InputError(
            f"{where}: pings must be a DataFrame with columns {list(need)} (got {have}); pass read_pings(...).pings."
        )
    if not isinstance(pings["time"].dtype, pd.DatetimeTZDtype):
        raise InputError(
            f"{where}: the pings' time column must be tz-aware (got {pings['time'].dtype}); localise "
            "it, e.g. pings['time'].dt.tz_localize('Europe/London')."
        )
    if pings["time"].isna().any() or pings["unit"].isna().any():
        raise InputError(f"{where}: every ping needs a unit and a time; validate the file with read_pings first.")
    x = pings["x"].to_numpy(np.float64)
    y = pings["y"].to_numpy(np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError(f"{where}: some pings have no finite x/y; validate the file with read_pings first.")


# --------------------------------------------------------------------------- visits from pings
def detect_visits(
    pings: pd.DataFrame,
    places: gpd.GeoDataFrame,
    *,
    crs: Any,
    id_column: str = "item_id",
    buffer_m: float = 10.0,
    max_gap_s: float | None = None,
    min_dwell_s: float = 120.0,
    drive_speed_mps: float = 5.0,
    timezone: str | None = None,
) -> VisitsResult:
    """Visits of patrol units to places, from GPS pings (see the module docstring for the rules).

    Parameters
    ----------
    pings : DataFrame with ``unit`` (pseudonym), ``time`` (tz-aware), ``x``, ``y`` (metres in ``crs``),
        e.g. ``read_pings(...).pings``. Any order.
    places : GeoDataFrame of polygons (e.g. the tasking items) in ``crs``, one row per place.
    crs : CRS of the pings' x/y; must equal ``places.crs``.
    id_column : the places' id column (default ``item_id``, as in the tasking list).
    buffer_m : metres added around each place (default 10 m).
    max_gap_s : longest gap (seconds) between inside pings that still joins them into one stay;
        ``None`` = automatic (3 x the median ping interval, at least 120 s).
    min_dwell_s : least presence (seconds) of a visit (default 120 s).
    drive_speed_mps : a stay with a faster transit speed (metres per second) is a drive-through
        (default 5 m/s = 18 km/h).
    timezone : time zone of days and weeks (default: the pings' own).
    """
    where = "detect_visits"
    _check_pings(pings, where)
    ids = check_places(places, crs, id_column, where)
    if buffer_m < 0 or min_dwell_s < 0 or drive_speed_mps <= 0 or (max_gap_s is not None and max_gap_s <= 0):
        raise InputError(
            f"{where}: buffer_m and min_dwell_s must be >= 0, drive_speed_mps and max_gap_s > 0 "
            f"(got {buffer_m} m, {min_dwell_s} s, {drive_speed_mps} m/s, {max_gap_s} s)."
        )
    tz = timezone or str(pings["time"].dt.tz)
    ucode, ulabels = pd.factorize(pings["unit"], sort=True)
    ucode = ucode.astype(np.int64)
    tns = pings["time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    key_sorted = len(ucode) < 2 or bool(np.all((np.diff(ucode) > 0) | ((np.diff(ucode) == 0) & (np.diff(tns) >= 0))))
    if key_sorted:
        order = None
    else:
        order = np.lexsort((tns, ucode))
        ucode, tns = ucode[order], tns[order]
    x = pings["x"].to_numpy(np.float64)
    y = pings["y"].to_numpy(np.float64)
    if order is not None:
        x, y = x[order], y[order]
    t = (tns - (tns[0] if len(tns) else 0)) / 1e9
    t0 = int(tns[0]) if len(tns) else 0
    n = len(t)
    same = ucode[1:] == ucode[:-1] if n else np.zeros(0, bool)
    dt = np.diff(t) if n else np.zeros(0)
    within = dt[same]
    automatic: dict[str, str] = {}
    median_interval = float(np.median(within)) if len(within) else float("nan")
    if max_gap_s is None:
        gap = max(120.0, 3.0 * median_interval) if np.isfinite(median_interval) else 120.0
        automatic["max_gap_s"] = f"{gap:g} s: 3 x the median interval between pings ({median_interval:g} s)" + (
            ", raised to the 120 s floor" if gap == 120.0 else ""
        )
    else:
        gap = float(max_gap_s)
    # each unit's usual interval, for the sides of pings next to a long gap
    step_u = np.zeros(int(ucode.max()) + 1 if n else 0)
    if len(within):
        med = pd.Series(within).groupby(ucode[1:][same]).median()
        step_u[med.index.to_numpy()] = med.to_numpy()
    prev_dt = np.r_[np.inf, np.where(same, dt, np.inf)] if n else np.zeros(0)
    next_dt = np.r_[np.where(same, dt, np.inf), np.inf] if n else np.zeros(0)
    half_step = step_u[ucode] / 2.0 if n else np.zeros(0)
    left = np.where(prev_dt <= gap, prev_dt / 2.0, np.minimum(half_step, gap / 2.0))
    right = np.where(next_dt <= gap, next_dt / 2.0, np.minimum(half_step, gap / 2.0))
    share = left + right
    pt, pl = places_of_pings(x, y, places.geometry.to_numpy(), buffer_m)
    o = np.argsort(pl, kind="stable")
    pt, pl = pt[o], pl[o]
    s_place, s_unit, s_first, s_last, s_n, s_presence, s_speed = stays_kernel(
        kernel_array(pl, np.int32),
        kernel_array(pt, np.int64),
        kernel_array(ucode, np.int64),
        kernel_array(t, np.float64),
        kernel_array(x, np.float64),
        kernel_array(y, np.float64),
        kernel_array(share, np.float64),
        float(gap),
    )
    if len(s_place):
        start_ns = t0 + np.round((t[s_first] - left[s_first]) * 1e9).astype(np.int64)
        end_ns = t0 + np.round((t[s_last] + right[s_last]) * 1e9).astype(np.int64)
        start = pd.to_datetime(start_ns, utc=True).tz_convert(tz)
        end = pd.to_datetime(end_ns, utc=True).tz_convert(tz)
        minutes = s_presence / 60.0
        kind = np.where(
            s_speed > drive_speed_mps, "drive_through", np.where(s_presence < min_dwell_s, "short", "visit")
        )
        stays_df = pd.DataFrame(
            {
                "place_id": ids[s_place],
                "unit": np.asarray(ulabels, dtype=object)[s_unit],
                "start": start,
                "end": end,
                "minutes": minutes,
                "span_minutes": (end_ns - start_ns) / 60e9,
                "n_pings": s_n,
                "speed_mps": s_speed,
                "kind": kind.astype(object),
            }
        )
        stays_df = stays_df.sort_values(["place_id", "start", "unit"], kind="stable").reset_index(drop=True)
    else:
        stays_df = _empty_stays(tz)
    stays_df, daily, weekly, per = _summaries(stays_df, ids, tz)
    settings: dict[str, float | int | str] = {
        "buffer_m": float(buffer_m),
        "max_gap_s": float(gap),
        "min_dwell_s": float(min_dwell_s),
        "drive_speed_mps": float(drive_speed_mps),
        "id_column": id_column,
        "timezone": tz,
        "median_ping_interval_s": median_interval,
        "pings": int(n),
        "inside_pings": int(len(pt)),
    }
    notes = []
    tree = shapely.STRtree(places.geometry.to_numpy())
    pairs = tree.query(places.geometry.to_numpy(), predicate="overlaps")
    pairs = pairs[:, pairs[0] < pairs[1]]
    if pairs.shape[1]:
        shown = ", ".join(f"{ids[a]}/{ids[b]}" for a, b in pairs.T[:5])
        notes.append(
            f"{pairs.shape[1]} pair(s) of places overlap ({shown}{', ...' if pairs.shape[1] > 5 else ''}); "
            "a stay in an overlap counts for both places"
        )
    notes += [
        f"{len(stays_df):,} stays at {int((per['visits'] > 0).sum())} of {len(per)} places: "
        f"{int((stays_df['kind'] == 'visit').sum()):,} visits, "
        f"{int((stays_df['kind'] == 'drive_through').sum()):,} drive-throughs, "
        f"{int((stays_df['kind'] == 'short').sum()):,} short stops"
    ]
    return VisitsResult(
        stays=stays_df,
        daily=daily,
        weekly=weekly,
        places=per,
        settings=settings,
        automatic=automatic,
        source="gps",
        timezone=tz,
        crs=str(crs),
        notes=tuple(notes),
    )


def visits_from_log(
    entries: pd.DataFrame, place_ids: Sequence[str] | None = None, *, timezone: str = DEFAULT_TIMEZONE
) -> VisitsResult:
    """Visits from a patrol log (``read_patrol_log(...).entries``): every logged row is a visit
    of its logged length (no pings, no speed). ``place_ids``: the places to report on (default:
    those in the log)."""
    need = ("place_id", "unit", "start", "end")
    if not isinstance(entries, pd.DataFrame) or any(c not in entries.columns for c in need):
        raise InputError(
            f"visits_from_log: entries must be a DataFrame with columns {list(need)}; pass "
            "read_patrol_log(...).entries."
        )
    ids = sorted({str(p) for p in entries["place_id"]}) if place_ids is None else [str(p) for p in place_ids]
    if len(entries):
        st = entries["start"].dt.tz_convert(timezone)
        en = entries["end"].dt.tz_convert(timezone)
        span = (en - st).dt.total_seconds().to_numpy() / 60.0
        stays_df = pd.DataFrame(
            {
                "place_id": entries["place_id"].astype(str).to_numpy(),
                "unit": entries["unit"].astype(str).to_numpy(),
                "start": st.reset_index(drop=True),
                "end": en.reset_index(drop=True),
                "minutes": span,
                "span_minutes": span,
                "n_pings": np.zeros(len(entries), dtype=np.int64),
                "speed_mps": np.full(len(entries), np.nan),
                "kind": np.full(len(entries), "visit", dtype=object),
            }
        )
        stays_df = stays_df.sort_values(["place_id", "start", "unit"], kind="stable").reset_index(drop=True)
    else:
        stays_df = _empty_stays(timezone)
    stays_df, daily, weekly, per = _summaries(stays_df, ids, timezone)
    notes = ["every logged visit counts, whatever its length"]
    other = sorted(set(stays_df["place_id"]) - set(ids))
    if other:
        notes.append(
            f"{int(stays_df['place_id'].isin(other).sum())} logged visit(s) at {len(other)} place(s) not "
            f"asked for (e.g. {other[:3]}) are in the stays and daily tables but not the places table"
        )
    return VisitsResult(
        stays=stays_df,
        daily=daily,
        weekly=weekly,
        places=per,
        settings={"timezone": timezone},
        automatic={},
        source="patrol log",
        timezone=timezone,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- compliance
@dataclass(frozen=True, eq=False)
class ComplianceResult:
    """Delivered against asked-for patrol per place (see :func:`dosage_compliance` for the columns)."""

    table: pd.DataFrame
    period: tuple[pd.Timestamp, pd.Timestamp]
    settings: dict[str, float | str | list[int]]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def counts(self) -> dict[str, int]:
        """Number of places per flag."""
        return {k: int(v) for k, v in self.table["flag"].value_counts().sort_index().items()}


def _in_hours(hour: npt.NDArray[np.float64], lo: float, hi: float) -> npt.NDArray[np.bool_]:
    return (hour >= lo) & (hour < hi) if lo < hi else (hour >= lo) | (hour < hi)


def _asked_visits(dose: Dosage, due_from: pd.Timestamp, due_to: pd.Timestamp, window_hours: float) -> float:
    """Visits the dosage asks for over ``[due_from, due_to)``: per due day when it names weekdays
    (and is not per week), else its weekly number pro rata."""
    if dose.weekdays and dose.per != "week":
        dates = pd.date_range(due_from.normalize(), (due_to - pd.Timedelta(1, "ns")).normalize(), freq="D")
        n_due = int(sum(1 for dd in dates if dose.due_on(dd.weekday())))
        per_day = dose.visits * (window_hours if dose.per == "hour" else 1.0)
        return per_day * n_due
    due_days = max((due_to - due_from).total_seconds() / 86400.0, 0.0)
    return dose.visits_per_week(window_hours) * due_days / 7.0


def _on_time_share(
    dose: Dosage,
    mins: npt.NDArray[np.float64],
    hours: npt.NDArray[np.float64],
    local: pd.Series,
    peak_window: tuple[float, float] | None,
) -> float:
    """Share of the delivered minutes at the days and times the dosage names (nights, weekdays,
    the place's ``peak_window`` of local hours); NaN when it names none, or names peak hours and the
    place has no window, or nothing was delivered."""
    delivered = float(mins.sum())
    if not (dose.nights or dose.weekdays or dose.peak_hours) or (dose.peak_hours and peak_window is None):
        return np.nan
    ok = np.ones(len(mins), dtype=bool)
    if dose.nights:
        ok &= _in_hours(hours, NIGHT_HOURS[0], NIGHT_HOURS[1])
    if dose.weekdays:
        service_day = local - pd.to_timedelta(np.where(dose.nights & (hours < NIGHT_HOURS[1]), 1, 0), unit="D")
        ok &= np.isin(service_day.dt.weekday.to_numpy(), dose.weekdays)
    if dose.peak_hours and peak_window is not None:
        lo, hi = peak_window
        ok &= _in_hours(hours, float(lo), float(hi))
    return float(mins[ok].sum()) / delivered if delivered > 0 else np.nan


def _compliance_flag(visits: int, compliance_minutes: float, under: float, over: float) -> str:
    """``not visited``, ``under-dosed`` (below ``under`` x the minutes asked), ``over-dosed`` (above
    ``over`` x) or ``on target``."""
    if visits == 0:
        return "not visited"
    if compliance_minutes < under:
        return "under-dosed"
    if compliance_minutes > over:
        return "over-dosed"
    return "on target"


def dosage_compliance(
    visits: VisitsResult,
    plans: pd.DataFrame,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    id_column: str = "item_id",
    dosage_column: str = "dosage",
    due_until_column: str = "due_until",
    peak_windows: Mapping[str, tuple[float, float]] | None = None,
    window_hours: float = 3.0,
    qualifying_share: float = 0.5,
    under: float = 0.8,
    over: float = 1.5,
) -> ComplianceResult:
    """Compare delivered patrol with the dosage asked for, per place, over ``[start, end)``.

    Parameters
    ----------
    visits : from :func:`detect_visits` or :func:`visits_from_log`.
    plans : DataFrame with ``id_column`` and ``dosage_column`` (the playbook sentence or a
        :class:`Dosage`), and optionally ``due_until_column`` (tz-aware end of a dosage that lasts
        "until the zone expires").
    start, end : the tasking period (e.g. the meeting date and the review date).
    peak_windows : optional mapping place id -> (first hour, end hour) of its peak window, local
        time (e.g. (18, 21); may wrap midnight), for dosages "at the peak hours".
    window_hours : hours a day a "per hour" dosage covers (default 3, the tasking list's peak window).
    qualifying_share : a visit counts as a full dose when it lasts at least this share of the minutes
        per visit asked for (default 0.5).
    under, over : flags: ``under-dosed`` when delivered minutes < ``under`` x asked (default 0.8),
        ``over-dosed`` when > ``over`` x asked (default 1.5), ``not visited`` with no visit at all,
        else ``on target``.

    Columns of the table: place id, ``dosage`` (as measured, in words), ``due_from``, ``due_to``,
    ``due_days``, ``asked_visits``, ``asked_minutes``, ``visits``, ``full_visits``, ``minutes``,
    ``compliance_minutes`` (delivered / asked), ``compliance_visits`` (full visits / asked),
    ``on_time_share`` (share of delivered minutes at the asked-for days and times: nights are
    18:00-06:00 and belong to the day they start; NaN when the dosage names no times, or names peak
    hours the place has no window for), ``time_spread`` (distinct 3-hour blocks of the day visits
    started in, 0-8; for "varied times"), ``median_visit_minutes``, ``share_koper_band`` and ``flag``.
    """
    where = "dosage_compliance"
    if not isinstance(plans, pd.DataFrame) or id_column not in plans.columns or dosage_column not in plans.columns:
        raise InputError(f"{where}: plans must be a DataFrame with {id_column!r} and {dosage_column!r} columns.")
    if not (0 < qualifying_share <= 1) or not (0 <= under <= 1 <= over) or window_hours <= 0:
        raise InputError(
            f"{where}: need 0 < qualifying_share <= 1, under <= 1 <= over, window_hours > 0 "
            f"(got {qualifying_share}, {under}, {over}, {window_hours})."
        )
    tz = visits.timezone
    s0 = pd.Timestamp(start)
    s0 = s0.tz_localize(tz) if s0.tzinfo is None else s0.tz_convert(tz)
    e0 = pd.Timestamp(end)
    e0 = e0.tz_localize(tz) if e0.tzinfo is None else e0.tz_convert(tz)
    if e0 <= s0:
        raise InputError(f"{where}: end {e0} is not after start {s0}.")
    peak_windows = dict(peak_windows or {})
    v = visits.visits
    v_local = v["start"].dt.tz_convert(tz)
    v_hour = (v_local.dt.hour + v_local.dt.minute / 60.0).to_numpy()
    rows = []
    notes = []
    for i in range(len(plans)):
        pid = str(plans[id_column].iloc[i])
        d = plans[dosage_column].iloc[i]
        dose = d if isinstance(d, Dosage) else parse_dosage(str(d), where=f"{where}: place {pid}")
        due_from, due_to = s0, e0
        if dose.lasts_days:
            due_to = min(due_to, s0 + pd.Timedelta(days=dose.lasts_days))
        if dose.until_expiry and due_until_column in plans.columns and pd.notna(plans[due_until_column].iloc[i]):
            u = pd.Timestamp(plans[due_until_column].iloc[i])
            due_to = min(due_to, u.tz_localize(tz) if u.tzinfo is None else u.tz_convert(tz))
        elif dose.until_expiry:
            notes.append(
                f"place {pid}: no {due_until_column!r} given for a dosage until the zone expires; the whole "
                "period is used"
            )
        due_days = max((due_to - due_from).total_seconds() / 86400.0, 0.0)
        asked_visits = _asked_visits(dose, due_from, due_to, window_hours)
        asked_minutes = asked_visits * dose.minutes_per_visit
        sel = ((v["place_id"] == pid) & (v["start"] >= due_from) & (v["start"] < due_to)).to_numpy()
        mins = v["minutes"].to_numpy(float)[sel]
        hours = v_hour[sel]
        local = v_local[sel]
        delivered = float(mins.sum())
        full = int((mins >= qualifying_share * dose.minutes_per_visit).sum())
        on_time = _on_time_share(dose, mins, hours, local, peak_windows.get(pid))
        comp_m = delivered / asked_minutes if asked_minutes > 0 else np.nan
        comp_v = full / asked_visits if asked_visits > 0 else np.nan
        flag = _compliance_flag(len(mins), comp_m, under, over)
        inband = (mins >= KOPER.low_minutes) & (mins <= KOPER.high_minutes)
        rows.append(
            {
                "place_id": pid,
                "dosage": dose.describe(),
                "due_from": due_from,
                "due_to": due_to,
                "due_days": due_days,
                "asked_visits": asked_visits,
                "asked_minutes": asked_minutes,
                "visits": int(len(mins)),
                "full_visits": full,
                "minutes": delivered,
                "compliance_minutes": comp_m,
                "compliance_visits": comp_v,
                "on_time_share": on_time,
                "time_spread": int(len(np.unique((hours // 3).astype(int)))) if len(hours) else 0,
                "median_visit_minutes": float(np.median(mins)) if len(mins) else np.nan,
                "share_koper_band": float(inband.mean()) if len(mins) else np.nan,
                "flag": flag,
            }
        )
    table = pd.DataFrame(rows)
    settings: dict[str, float | str | list[int]] = {
        "window_hours": float(window_hours),
        "qualifying_share": float(qualifying_share),
        "under": float(under),
        "over": float(over),
        "night_hours": list(NIGHT_HOURS),
        "source": visits.source,
    }
    return ComplianceResult(table=table, period=(s0, e0), settings=settings, notes=tuple(notes))
