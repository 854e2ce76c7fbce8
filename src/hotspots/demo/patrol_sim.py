"""Synthetic patrols with a known truth: GPS pings of units on a road network, and crime
with a planted patrol effect.

For tests, benchmarks and the demo borough: :func:`simulate_patrols` drives
units along the roads (shortest paths over the road lines) to the places they
are tasked to, parks them there for a planted number of minutes, and sends other
units straight through places at driving speed; :func:`plant_patrol_effect`
draws incidents in places whose expected number falls on days with patrol by a
planted share. Both take a numpy ``Generator`` so everything follows from one
seed. Coordinates are metres in the CRS of the roads and places (they must
match); times are tz-aware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from ..config.sections import DEFAULT_TIMEZONE
from ..errors import InputError

__all__ = ["SimulatedCrime", "SimulatedPatrols", "plant_patrol_effect", "simulate_patrols"]


# --------------------------------------------------------------------------- road graph
class _RoadGraph:
    """Road lines as a graph: vertices (lines densified to ``max_segment_m``, rounded to 0.5 m)
    joined along each line; separate components joined to the largest one by their closest pair
    of vertices."""

    def __init__(self, geoms: npt.ArrayLike, max_segment_m: float = 25.0) -> None:
        parts = shapely.get_parts(np.asarray(geoms, dtype=object))
        parts = shapely.segmentize(parts[shapely.get_type_id(parts) == 1], max_segment_m)  # LineStrings
        if len(parts) == 0:
            raise InputError("simulate_patrols: the roads hold no lines.")
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        key = np.round(coords * 2.0) / 2.0
        nodes, inv = np.unique(key, axis=0, return_inverse=True)
        inv = inv.ravel()
        same_line = idx[1:] == idx[:-1]
        a, b = inv[:-1][same_line], inv[1:][same_line]
        keep = a != b
        a, b = a[keep], b[keep]
        n = len(nodes)
        comp_n, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
        extra_a: list[int] = []
        extra_b: list[int] = []
        if comp_n > 1:
            main = np.bincount(comp).argmax()
            tree = cKDTree(nodes[comp == main])
            main_ids = np.flatnonzero(comp == main)
            for c in range(comp_n):
                if c == main:
                    continue
                ids = np.flatnonzero(comp == c)
                d, j = tree.query(nodes[ids])
                k = int(np.argmin(d))
                extra_a.append(ids[k])
                extra_b.append(main_ids[j[k]])
        a = np.r_[a, extra_a].astype(np.int64)
        b = np.r_[b, extra_b].astype(np.int64)
        w = np.hypot(*(nodes[a] - nodes[b]).T) + 1e-9
        self.graph = coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
        self.nodes = nodes
        self.tree = cKDTree(nodes)
        self._pred: dict[int, np.ndarray] = {}

    def nearest(self, x: float, y: float) -> int:
        return int(self.tree.query([x, y])[1])

    def route(self, a: int, b: int) -> np.ndarray:
        """Vertices (k, 2) of the shortest path from node a to node b."""
        if a not in self._pred:
            _, pred = dijkstra(self.graph, directed=False, indices=a, return_predecessors=True)
            self._pred[a] = pred
        pred = self._pred[a]
        path = [b]
        while path[-1] != a:
            p = pred[path[-1]]
            if p < 0:
                raise InputError("simulate_patrols: the road network is not connected.")
            path.append(int(p))
        return self.nodes[path[::-1]]


def _polyline_positions(path: np.ndarray, dist: np.ndarray) -> np.ndarray:
    seg = np.hypot(*np.diff(path, axis=0).T) if len(path) > 1 else np.zeros(0)
    cum = np.r_[0.0, np.cumsum(seg)]
    if cum[-1] == 0:
        return np.repeat(path[:1], len(dist), axis=0)
    return np.column_stack([np.interp(dist, cum, path[:, 0]), np.interp(dist, cum, path[:, 1])])


def _length(path: np.ndarray) -> float:
    return float(np.hypot(*np.diff(path, axis=0).T).sum()) if len(path) > 1 else 0.0


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class SimulatedPatrols:
    """Pings and the planted truth.

    ``pings``: ``unit`` (raw call sign), ``time`` (tz-aware), ``x``, ``y`` (metres in ``crs``).
    ``planted_visits``: ``place_id, unit, start, end, minutes`` (the time parked at the place).
    ``planted_passes``: ``place_id, unit, time``: planned drive-throughs at ``speed_mps``.
    """

    pings: pd.DataFrame
    planted_visits: pd.DataFrame
    planted_passes: pd.DataFrame
    crs: str
    settings: dict[str, float | int | list[float]]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def minutes_per_place(self) -> pd.Series:
        """Planted minutes per place."""
        return self.planted_visits.groupby("place_id")["minutes"].sum()

    def to_csv_frame(self) -> pd.DataFrame:
        """The pings as an AVLS export would give them: call sign, ISO time in UTC (``Z``),
        longitude and latitude (EPSG:4326, 6 decimals)."""
        tr = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(self.pings["x"].to_numpy(), self.pings["y"].to_numpy())
        return pd.DataFrame(
            {
                "callsign": self.pings["unit"].to_numpy(),
                "timestamp": (
                    pd.Series(
                        np.datetime_as_string(
                            self.pings["time"]
                            .dt.tz_convert("UTC")
                            .dt.tz_localize(None)
                            .to_numpy()
                            .astype("datetime64[ms]")
                        ),
                        dtype="str",
                    )
                    + "Z"
                ).to_numpy(),
                "longitude": np.round(lon, 6),
                "latitude": np.round(lat, 6),
            }
        )


@dataclass(frozen=True, eq=False)
class SimulatedCrime:
    """Incidents with a planted patrol effect.

    ``incidents``: canonical incident columns (EPSG of the places) plus ``place_id``.
    ``expected``: per place and day: ``base_count``, ``multiplier``, ``expected_count``,
    ``expected_harm``, ``minutes`` (the dose that day).
    ``effect_count_per_place_day`` / ``effect_harm_per_place_day``: the planted difference in
    expected count / harm per place-day between a full-dose day and a day without patrol,
    averaged over the places.
    """

    incidents: gpd.GeoDataFrame
    expected: pd.DataFrame
    reduction: float
    full_dose_minutes: float
    effect_count_per_place_day: float
    effect_harm_per_place_day: float
    mean_harm_weight: float


# --------------------------------------------------------------------------- patrols
#: One leg of a unit's day: start (seconds from the first day's midnight), ``"drive"`` or ``"stay"``,
#: the path driven (k, 2) or the point parked at (2,), and the duration in seconds.
_Segment = tuple[float, str, npt.NDArray[np.float64], float]


def _planned_visits(
    rng: np.random.Generator, ids: npt.NDArray[np.object_], plan: pd.DataFrame, days: int
) -> list[tuple[str, int, float]]:
    """(place id, day, minutes) of every planned visit: per place and week, ``visits_per_week``
    distinct random days (pro rata in a short last week; repeated days beyond 7 a week), sorted by
    day then place."""
    want = []
    for pid in ids:
        if pid not in plan.index:
            continue
        mins = float(plan.loc[pid, "minutes_per_visit"])
        per_week = int(plan.loc[pid, "visits_per_week"])
        for w0 in range(0, days, 7):
            span = min(7, days - w0)
            k = int(round(per_week * span / 7))
            day_pick = (rng.choice(span, size=k, replace=False) if k <= span else rng.integers(0, span, size=k)) + w0
            want += [(pid, int(d), mins) for d in day_pick]
    want.sort(key=lambda v: (v[1], v[0]))
    return want


@dataclass(frozen=True, eq=False)
class _Trips:
    """Plans the units' drives on the road ``graph``: each unit leaves from and returns to its
    ``base`` node; days count from ``day0`` and run over ``hours`` (local, first and end hour);
    units drive at ``speed_mps``."""

    graph: _RoadGraph
    base: dict[str, int]
    day0: pd.Timestamp
    hours: tuple[float, float]
    speed_mps: float

    def visits(
        self,
        rng: np.random.Generator,
        want: list[tuple[str, int, float]],
        visiting: list[str],
        ids: npt.NDArray[np.object_],
        road_node: npt.NDArray[np.int64],
        dwell_pt: npt.NDArray[np.float64],
        segs: dict[str, list[_Segment]],
    ) -> list[dict[str, Any]]:
        """Each planned visit by a random visiting unit free that day: drive from its base to the
        place's point, park for the planned minutes, drive back (segments added to ``segs``).
        Returns the planted visits."""
        h0, h1 = self.hours
        busy: dict[tuple[str, int], float] = {}
        planted = []
        pidx = {p: i for i, p in enumerate(ids)}
        for pid, d, mins in want:
            i = pidx[pid]
            for _attempt in range(50):
                u = visiting[int(rng.integers(len(visiting)))]
                go = self.graph.route(self.base[u], road_node[i])
                go = np.vstack([go, dwell_pt[i]])
                t_go = _length(go) / self.speed_mps
                earliest = max(busy.get((u, d), 0.0), d * 86400.0 + h0 * 3600.0)
                latest = d * 86400.0 + h1 * 3600.0 - 2 * t_go - mins * 60.0 - 60.0
                if latest <= earliest:
                    continue
                depart = float(rng.uniform(earliest, min(latest, earliest + 3 * 3600.0)))
                arrive = depart + t_go
                leave = arrive + mins * 60.0
                back = go[::-1]
                segs[u].append((depart, "drive", go, t_go))
                segs[u].append((arrive, "stay", dwell_pt[i], mins * 60.0))
                segs[u].append((leave, "drive", back, t_go))
                busy[(u, d)] = leave + t_go + float(rng.uniform(600, 1800))
                planted.append(
                    {
                        "place_id": pid,
                        "unit": u,
                        "start": self.day0 + pd.Timedelta(seconds=arrive),
                        "end": self.day0 + pd.Timedelta(seconds=leave),
                        "minutes": mins,
                    }
                )
                break
            else:
                raise InputError(
                    f"simulate_patrols: could not fit a {mins:g}-minute visit to {pid} on day {d}; "
                    "give more visiting units or a longer day."
                )
        return planted

    def passes(
        self,
        rng: np.random.Generator,
        passing: list[str],
        days: int,
        passes_per_day: int,
        passable: npt.NDArray[np.intp],
        ends: npt.NDArray[np.intp],
        ids: npt.NDArray[np.object_],
        road_node: npt.NDArray[np.int64],
        segs: dict[str, list[_Segment]],
    ) -> list[dict[str, Any]]:
        """Drive-throughs: every day each passing unit drives from its base to a random road end,
        through the road node of a random passable place to another end, and back to base, until
        the day is over (segments added to ``segs``). Returns the planted passes."""
        h0, h1 = self.hours
        passes = []
        for u in passing:
            for d in range(days):
                t = d * 86400.0 + h0 * 3600.0 + float(rng.uniform(0, 1800))
                for _ in range(passes_per_day):
                    i = int(rng.choice(passable))
                    a = int(rng.choice(ends))
                    b = int(rng.choice(ends))
                    leg1 = self.graph.route(a, road_node[i])
                    leg2 = self.graph.route(road_node[i], b)
                    # the unit first drives from its last position (its base) to the start node
                    lead = self.graph.route(self.base[u], a)
                    path = np.vstack([lead, leg1[1:], leg2[1:]])
                    dur = _length(path) / self.speed_mps
                    if t + dur > d * 86400.0 + h1 * 3600.0:
                        break
                    segs[u].append((t, "drive", path, dur))
                    at = t + (_length(lead) + _length(leg1)) / self.speed_mps
                    passes.append({"place_id": ids[i], "unit": u, "time": self.day0 + pd.Timedelta(seconds=at)})
                    back = self.graph.route(b, self.base[u])
                    t_back = _length(back) / self.speed_mps
                    segs[u].append((t + dur, "drive", back, t_back))
                    t = t + dur + t_back + float(rng.uniform(300, 1200))
        return passes


def _unit_pings(
    rng: np.random.Generator,
    unit: str,
    home: npt.NDArray[np.float64],
    segs: list[_Segment],
    days: int,
    hours: tuple[float, float],
    interval_s: float,
    speed_mps: float,
    gps_error_m: float,
    day0: pd.Timestamp,
) -> pd.DataFrame:
    """One unit's pings every ``interval_s`` seconds (random phase) over ``hours`` of every day: at
    home (its base) unless a segment puts it on the road or parked; plus GPS error (metres, sd)."""
    h0, h1 = hours
    phase = float(rng.uniform(0, interval_s))
    times = np.concatenate(
        [np.arange(d * 86400.0 + h0 * 3600.0 + phase, d * 86400.0 + h1 * 3600.0, interval_s) for d in range(days)]
    )
    pos = np.repeat(home[None, :], len(times), axis=0).astype(float)
    for t0, kind, data, dur in sorted(segs, key=lambda s: s[0]):
        sel = (times >= t0) & (times < t0 + dur)
        if not sel.any():
            continue
        if kind == "stay":
            pos[sel] = data
        else:
            pos[sel] = _polyline_positions(data, (times[sel] - t0) * speed_mps)
    pos += rng.normal(0.0, gps_error_m, size=pos.shape)
    return pd.DataFrame(
        {
            "unit": unit,
            "time": day0 + pd.to_timedelta(np.round(times, 3), unit="s"),
            "x": pos[:, 0],
            "y": pos[:, 1],
        }
    )


def simulate_patrols(
    rng: np.random.Generator,
    roads: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    start: str | pd.Timestamp,
    days: int = 7,
    plans: pd.DataFrame | None = None,
    id_column: str = "item_id",
    n_visiting_units: int = 6,
    n_passing_units: int = 4,
    passes_per_day: int = 8,
    interval_s: float = 10.0,
    drive_speed_mps: float = 10.0,
    gps_error_m: float = 3.0,
    day_hours: tuple[float, float] = (7.0, 23.0),
    timezone: str = DEFAULT_TIMEZONE,
) -> SimulatedPatrols:
    """Simulate GPS pings of patrol units with known visits and drive-throughs.

    Parameters
    ----------
    rng : numpy Generator (the only source of randomness).
    roads : GeoDataFrame of road lines (metres, same CRS as ``places``).
    places : GeoDataFrame of place polygons with ``id_column``.
    start : first day (local date); ``days`` days are simulated.
    plans : DataFrame with ``id_column``, ``minutes_per_visit``, ``visits_per_week``; default 15
        minutes 3 times a week at every place. Each week's visits fall on distinct random days
        (several a day beyond 7 a week), at random times within ``day_hours``.
    n_visiting_units : units that make the visits, each from its own base on the roads at least
        300 m from every place; they drive there along the shortest road path at
        ``drive_speed_mps``, park at the place's point on its surface for the planted minutes, and
        drive back.
    n_passing_units, passes_per_day : units that drive through places without stopping: each pass
        runs along the roads from one of 40 random road points through the road node nearest the
        place's point (only places that node lies in are passed through) to another.
    interval_s : seconds between pings (each unit its own random phase); pings run through
        ``day_hours`` (local) every day; ``gps_error_m``: standard deviation of the position error.
    """
    if roads.crs is None or places.crs is None or roads.crs != places.crs:
        raise InputError("simulate_patrols: roads and places need the same projected CRS (metres).")
    if interval_s <= 0 or drive_speed_mps <= 0 or days < 1:
        raise InputError("simulate_patrols: interval_s and drive_speed_mps must be > 0 and days >= 1.")
    ids = places[id_column].astype(str).to_numpy()
    geoms = places.geometry.to_numpy()
    if plans is None:
        plans = pd.DataFrame({id_column: ids, "minutes_per_visit": 15.0, "visits_per_week": 3})
    plan = plans.set_index(plans[id_column].astype(str))
    graph = _RoadGraph(roads.geometry.to_numpy())
    dwell_pt = shapely.get_coordinates(shapely.point_on_surface(geoms))
    road_node = np.array([graph.nearest(px, py) for px, py in dwell_pt])
    # bases: road nodes at least 300 m from every place
    union = shapely.union_all(geoms)
    far = shapely.distance(union, shapely.points(graph.nodes)) >= 300.0
    candidates = np.flatnonzero(far)
    if len(candidates) == 0:
        raise InputError("simulate_patrols: no road point is 300 m from every place; give a larger road network.")
    day0 = pd.Timestamp(start)
    day0 = (day0.tz_localize(timezone) if day0.tzinfo is None else day0.tz_convert(timezone)).normalize()
    # drive-throughs go through the road node nearest each place's point, where that node is inside
    passable = np.flatnonzero(shapely.contains_xy(geoms, graph.nodes[road_node, 0], graph.nodes[road_node, 1]))
    ends = rng.choice(candidates, size=min(40, len(candidates)), replace=False)
    visiting = [f"CS{100 + k}" for k in range(n_visiting_units)]
    passing = [f"TR{200 + k}" for k in range(n_passing_units)]
    base = {u: int(rng.choice(candidates)) for u in visiting + passing}
    want = _planned_visits(rng, ids, plan, days)
    segs: dict[str, list[_Segment]] = {u: [] for u in visiting + passing}
    trip = _Trips(graph, base, day0, day_hours, drive_speed_mps)
    planted = trip.visits(rng, want, visiting, ids, road_node, dwell_pt, segs)
    passes = trip.passes(
        rng, passing if len(passable) else [], days, passes_per_day, passable, ends, ids, road_node, segs
    )
    frames = [
        _unit_pings(
            rng, u, graph.nodes[base[u]], segs[u], days, day_hours, interval_s, drive_speed_mps, gps_error_m, day0
        )
        for u in visiting + passing
    ]
    pings = pd.concat(frames, ignore_index=True)
    pv = pd.DataFrame(planted, columns=["place_id", "unit", "start", "end", "minutes"])
    pp = pd.DataFrame(passes, columns=["place_id", "unit", "time"])
    settings: dict[str, float | int | list[float]] = {
        "days": days,
        "interval_s": interval_s,
        "drive_speed_mps": drive_speed_mps,
        "gps_error_m": gps_error_m,
        "day_hours": list(day_hours),
        "visiting_units": n_visiting_units,
        "passing_units": n_passing_units,
        "passes_per_day": passes_per_day,
    }
    return SimulatedPatrols(
        pings=pings,
        planted_visits=pv.sort_values(["place_id", "start"]).reset_index(drop=True),
        planted_passes=pp,
        crs=places.crs.to_string(),
        settings=settings,
    )


# --------------------------------------------------------------------------- planted effect
def plant_patrol_effect(
    rng: np.random.Generator,
    places: gpd.GeoDataFrame,
    dose: pd.DataFrame,
    *,
    start: str | pd.Timestamp,
    days: int,
    base_rate_per_day: float | Mapping[str, float] | pd.Series,
    reduction: float,
    full_dose_minutes: float = 15.0,
    id_column: str = "item_id",
    crime_mix: dict[str, float] | None = None,
    harm_weights: dict[str, float] | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> SimulatedCrime:
    """Incidents in places, fewer on days with patrol.

    The expected count at place p on day d is ``base_rate_per_day[p] * (1 - reduction *
    min(minutes[p, d] / full_dose_minutes, 1))``: a day with a full dose (``full_dose_minutes`` or
    more) has ``reduction`` fewer crimes than a day without patrol, a smaller dose proportionally
    less. Counts are Poisson; each incident gets a uniform position in the place, a uniform time of
    day (to the minute), and a crime type from ``crime_mix`` (shares) with its ``harm_weights``.

    ``dose``: DataFrame with ``place_id``, ``day`` (local date) and ``minutes`` (days absent = no
    patrol), e.g. a crossover schedule's patrol days with 15 minutes, or delivered minutes from
    :func:`hotspots.analysis.dosage.detect_visits` (its ``daily`` table).
    ``base_rate_per_day``: a number, or a mapping / Series of place id -> expected crimes a day.
    """
    if not 0 <= reduction < 1 or full_dose_minutes <= 0:
        raise InputError("plant_patrol_effect: reduction must be in [0, 1) and full_dose_minutes > 0.")
    crime_mix = crime_mix or {"robbery": 0.3, "violence": 0.3, "theft_from_person": 0.4}
    harm_weights = harm_weights or {"robbery": 10.0, "violence": 6.0, "theft_from_person": 2.0}
    types = list(crime_mix)
    probs = np.array([crime_mix[t] for t in types], dtype=float)
    probs /= probs.sum()
    weights = np.array([harm_weights[t] for t in types], dtype=float)
    mean_w = float((probs * weights).sum())
    ids = places[id_column].astype(str).to_numpy()
    geoms = places.geometry.to_numpy()
    if isinstance(base_rate_per_day, (int, float)):
        rate = np.full(len(ids), float(base_rate_per_day))
    else:
        rate = np.array([float(base_rate_per_day[p]) for p in ids])
    day0 = pd.Timestamp(start)
    day0 = (day0.tz_localize(timezone) if day0.tzinfo is None else day0.tz_convert(timezone)).normalize()
    dates = pd.date_range(day0.tz_localize(None), periods=days, freq="D")
    grid = pd.MultiIndex.from_product([ids, dates], names=["place_id", "day"])
    dd = dose.assign(
        place_id=dose["place_id"].astype(str), day=pd.to_datetime(dose["day"]).dt.tz_localize(None).dt.normalize()
    )
    mins = dd.groupby(["place_id", "day"])["minutes"].sum().reindex(grid, fill_value=0.0).to_numpy()
    base = np.repeat(rate, days)
    mult = 1.0 - reduction * np.minimum(mins / full_dose_minutes, 1.0)
    lam = base * mult
    n = rng.poisson(lam)
    rows_p = np.repeat(np.arange(len(grid)), n)
    place_of = rows_p // days
    day_of = rows_p % days
    xs = np.empty(len(rows_p))
    ys = np.empty(len(rows_p))
    for p in range(len(ids)):
        k = np.flatnonzero(place_of == p)
        if not len(k):
            continue
        minx, miny, maxx, maxy = geoms[p].bounds
        got = np.zeros((0, 2))
        while len(got) < len(k):
            cand = np.column_stack([rng.uniform(minx, maxx, 4 * len(k)), rng.uniform(miny, maxy, 4 * len(k))])
            got = np.vstack([got, cand[shapely.contains_xy(geoms[p], cand[:, 0], cand[:, 1])]])
        xs[k], ys[k] = got[: len(k), 0], got[: len(k), 1]
    minute = rng.integers(0, 1440, size=len(rows_p))
    local = dates[day_of] + pd.to_timedelta(minute, unit="min")
    when = pd.DatetimeIndex(local).tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    ct = np.asarray(types, dtype=object)[rng.choice(len(types), size=len(rows_p), p=probs)]
    harm = np.array([harm_weights[c] for c in ct], dtype=float)
    inc = gpd.GeoDataFrame(
        {
            "incident_id": [f"SIM{k:07d}" for k in range(len(rows_p))],
            "crime_type": ct,
            "offence": ct,
            "start": when,
            "end": when,
            "time_precision": "minute",
            "x": xs,
            "y": ys,
            "location_text": "",
            "ward_code": "",
            "lsoa_code": "",
            "harm": harm,
            "place_id": ids[place_of],
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=places.crs,
    )
    inc = inc.sort_values(["start", "incident_id"], kind="stable").reset_index(drop=True)
    expected = pd.DataFrame(
        {"base_count": base, "multiplier": mult, "expected_count": lam, "expected_harm": lam * mean_w, "minutes": mins},
        index=grid,
    ).reset_index()
    eff_c = float(-reduction * rate.mean())
    return SimulatedCrime(
        incidents=inc,
        expected=expected,
        reduction=float(reduction),
        full_dose_minutes=float(full_dose_minutes),
        effect_count_per_place_day=eff_c,
        effect_harm_per_place_day=eff_c * mean_w,
        mean_harm_weight=mean_w,
    )
